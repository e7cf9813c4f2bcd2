"""Speed switches of the training step, and the measured best choice for each device.

Each switch in SpeedConfig is None (the default: the choice measured fastest on that kind of
device, see docs/performance.md), True or False. `resolve_speed` turns them into plain bools
for one device. The optimiser's fused kernels are switched in OptimizerConfig (`fused`).
"""
from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass

import torch
from torch import nn
from torch.distributed._composable import checkpoint
from torch.optim import Optimizer

from phaze.config.options import PhazeAOptions
from phaze.errors import ConfigError
from phaze.layers.conv import SamePadConv2d
from phaze.train.config import SpeedConfig

# The measured defaults per device type (docs/performance.md); other device types get all off.
DEVICE_DEFAULTS: dict[str, dict[str, bool]] = {
    # float32 on a CPU: oneDNN's channels-last convolution backward measured 1.5-1.9x slower
    # than NCHW in the decoders of dfl-saehd-liae and stojo (AVX2, docs/performance.md).
    "cpu": {"channels_last": False, "compile": False, "per_side_backward": True,
            # 4×4-output convolutions as matmuls: `original` 1.03 -> 0.82 s/step in bf16 on an
            # AMX Xeon, 2.17 -> 1.80 in float32 there, 2.86 -> 2.51 limited to AVX2.
            "small_convs_as_matmul": True},
    # Not yet measured on a GPU: the usual best choices for convolutions on tensor cores.
    "cuda": {"channels_last": True, "compile": False, "per_side_backward": True,
             "cudnn_benchmark": True},
}
# Under bf16 autocast a CPU keeps channels-last: oneDNN's bf16 kernels work in NHWC (5-7 %
# faster on an AMX Xeon). It keeps a backward per side too: one backward over both sides was
# 1-10 % faster on `original` at the same peak RSS, but raised dfl-saehd-liae's by 0.64 GiB
# (docs/performance.md, "bf16 step on an AVX512-BF16/AMX CPU").
HALF_PRECISION_DEFAULTS: dict[str, dict[str, bool]] = {"cpu": {"channels_last": True}}
# ...unless the optimiser steps inside that one backward and the caller found that this lowers
# the peak (train/memory.one_backward_saves_memory): on `original` 9 % faster and 0.08 GiB less;
# in float32 it was no faster (docs/performance.md).
IN_BACKWARD_WHERE_IT_SAVES_MEMORY = {"cpu"}
# Largest output (positions per image) computed as a matmul: for `original`'s 4×4 layers the
# matmul's forward + backward took 0.4× oneDNN's convolution (whose weight gradient and weight
# reorders dominate there), at 8×8 about the same, at 16×16 more (docs/performance.md).
SMALL_CONV_POSITIONS = 16


@dataclass(frozen=True)
class Speed:
    """SpeedConfig resolved for one device: every switch is a plain bool."""

    channels_last: bool = False
    compile: bool = False
    per_side_backward: bool = False
    cudnn_benchmark: bool = False
    optimizer_in_backward: bool = False
    activation_checkpointing: bool = False
    small_convs_as_matmul: bool = False

    @property
    def label(self) -> str:
        """The switches that are on, for the log: 'channels-last, optimiser in backward'."""
        return ", ".join(name.replace("_", " ").replace("channels last", "channels-last")
                         .replace("optimizer", "optimiser")
                         for name, on in dataclasses.asdict(self).items() if on)


def _may_step_in_backward_by_default(config: SpeedConfig, device: torch.device | str,
                                     autocast_dtype: torch.dtype | None,
                                     in_backward_blocker: str | None) -> bool:
    return (torch.device(device).type in IN_BACKWARD_WHERE_IT_SAVES_MEMORY
            and autocast_dtype is not None and in_backward_blocker is None
            and config.optimizer_in_backward is None and config.per_side_backward is None)


def resolve_speed(config: SpeedConfig, device: torch.device | str,
                  autocast_dtype: torch.dtype | None = None,
                  in_backward_blocker: str | None = None,
                  in_backward_saves_memory: bool = False) -> Speed:
    """The switches for `device` (running autocast in `autocast_dtype`, None: float32): the
    ones set in `config`, else the measured default for that device and precision.

    `in_backward_blocker` says why the other settings rule out `optimizer_in_backward`
    (train/in_backward.py); the default then leaves it off, and asking for it is an error.
    `in_backward_saves_memory`: the estimate for this model and batch
    (`resolve_model_speed`); it turns the optimiser step inside backward on by default where
    the device, precision and other switches allow it.
    """
    kind = torch.device(device).type
    defaults = dict(DEVICE_DEFAULTS.get(kind, {}))
    if autocast_dtype is not None:
        defaults.update(HALF_PRECISION_DEFAULTS.get(kind, {}))
    if in_backward_saves_memory and _may_step_in_backward_by_default(
            config, device, autocast_dtype, in_backward_blocker):
        defaults.update(optimizer_in_backward=True, per_side_backward=False)
    if in_backward_blocker is not None:
        if config.optimizer_in_backward:
            raise ConfigError(f"speed option 'optimizer_in_backward' is True but "
                              f"{in_backward_blocker}; allowed: None or False")
        defaults["optimizer_in_backward"] = False
    values = {f.name: getattr(config, f.name) for f in dataclasses.fields(SpeedConfig)}
    speed = Speed(**{name: defaults.get(name, False) if value is None else value
                     for name, value in values.items()})
    if speed.optimizer_in_backward and speed.per_side_backward:
        if config.per_side_backward:
            raise ConfigError("speed options 'optimizer_in_backward' and 'per_side_backward' "
                              "are both True; allowed: at most one of them (stepping inside "
                              "backward needs one backward over both sides)")
        speed = dataclasses.replace(speed, per_side_backward=False)
    return speed


def resolve_model_speed(config: SpeedConfig, device: torch.device | str,
                        autocast_dtype: torch.dtype | None, in_backward_blocker: str | None,
                        options: PhazeAOptions, batch_size: int) -> Speed:
    """`resolve_speed` for training `options` at `batch_size` faces per side: the memory
    estimate that decides the in-backward default is made only where it can matter (it builds
    the model on the meta device: 0.1-1.5 s)."""
    saves = False
    if _may_step_in_backward_by_default(config, device, autocast_dtype, in_backward_blocker):
        from phaze.train.memory import one_backward_saves_memory
        saves = one_backward_saves_memory(options, batch_size, autocast_dtype.itemsize)
    return resolve_speed(config, device, autocast_dtype, in_backward_blocker, saves)


def use_channels_last(model: nn.Module, optimizer: Optimizer | None = None) -> None:
    """Store 4-D weights (and any optimiser state shaped like them) channels-last, in place.

    Parameters keep their identity, so an optimiser built before still holds them; restored
    optimiser state is converted too, so elementwise updates see matching layouts.
    """
    model.to(memory_format=torch.channels_last)
    if optimizer is None:
        return
    for param, state in optimizer.state.items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and value.dim() == 4 \
                    and value.shape == param.shape:
                state[key] = value.contiguous(memory_format=torch.channels_last)


def use_small_convs_as_matmul(model: nn.Module,
                              positions: int = SMALL_CONV_POSITIONS) -> list[SamePadConv2d]:
    """Compute every "same"-padded convolution whose output has at most `positions` positions
    per image as a matmul over image columns; returns the convolutions that may do so."""
    convs = [module for module in model.modules() if isinstance(module, SamePadConv2d)]
    for conv in convs:
        conv.matmul_max_positions = positions
    return convs


@contextlib.contextmanager
def sharing_weight_casts(convs: list[SamePadConv2d]) -> Iterator[None]:
    """Forwards inside the block share one reduced-precision copy of each weight of `convs`
    (on the matmul path), as autocast shares its casts for F.conv2d; dropped at the end (the
    autograd graph keeps what backward needs)."""
    for conv in convs:
        conv.weight_casts = {}
    try:
        yield
    finally:
        for conv in convs:
            conv.weight_casts = None


def use_activation_checkpointing(model: nn.Module) -> list[nn.Module]:
    """Recompute each block's forward in backward instead of keeping its activations.

    The blocks are the stages of each sub-model (its shallowest run of two or more modules
    with weights: encoder stages, upscale stages, G-Block recursions) or, where it has none,
    the whole sub-model. Hooks do it, so parameter names (and checkpoints) stay the same; the
    random state is replayed, so noise and dropout recompute the same values. Returns the
    blocks.
    """
    blocks = []
    for submodel in model.submodels().values():
        blocks.extend(_stages(submodel) or [submodel])
    for block in blocks:
        checkpoint(block)
    return blocks


def _stages(module: nn.Module) -> list[nn.Module]:
    """The shallowest run of ≥ 2 modules with weights. At equal depth the one with the most
    convolution weights wins: convolutions, not dense layers, make the large activations."""
    runs = []
    for name, child in module.named_modules():
        if isinstance(child, (nn.Sequential, nn.ModuleList)):
            weighted = [c for c in child.children() if next(c.parameters(), None) is not None]
            if len(weighted) >= 2:
                conv = sum(p.numel() for p in child.parameters() if p.dim() >= 3)
                size = sum(p.numel() for p in child.parameters())
                runs.append((name.count(".") if name else -1, -conv, -size, weighted))
    return min(runs, key=lambda run: run[:3])[3] if runs else []
