"""Estimate the memory one training step needs, before building anything real.

Weights, gradients and optimiser state follow from the parameter count. Activations are what
autograd keeps for the backward pass: one training forward (both sides, the default SSIM + MSE
face loss with masks) runs on the meta device, where tensors have shapes but no storage, and a
saved-tensors hook adds up the bytes of every distinct storage it is handed. The meta weights are
turned into fake CPU tensors (torch's FakeTensorMode: meta storage that claims a device), so the
losses' autocast guards work; nothing real is allocated, so a design too big for the machine can
still be estimated.

docs/performance.md compares the estimate with measured peaks.
"""
from __future__ import annotations

import functools
from typing import NamedTuple

import torch
from torch import nn
from torch._subclasses.fake_tensor import FakeTensorMode

from phaze.config.options import PhazeAOptions
from phaze.model.design import (ENCODER_GROUPS, OptionKey, backbone_output_shape, option_key,
                                 options_from_key)
from phaze.model.encoder import Encoder
from phaze.model.encoders import ENCODERS
from phaze.model.phaze_a import SIDES, PhazeA, build_model
from phaze.registry import Registry

# Optimiser state tensors kept per parameter (Adam/AdamW/AdaBelief: two moments; Lion: one).
# optimiser → tensors of state it keeps per parameter
OPTIMIZER_STATES: Registry[int] = Registry("optimizer")
OPTIMIZER_STATES.add("adam", 2)
OPTIMIZER_STATES.add("adamw", 2)
OPTIMIZER_STATES.add("adabelief", 2)
OPTIMIZER_STATES.add("lion", 1)
OPTIMIZER_STATES.add("sgd", 0)
FLOAT32_BYTES = 4


def estimate_training_memory(options: PhazeAOptions, batch_size: int, optimizer: str = "adam",
                             dtype_bytes: int = 4, device: str = "cuda",
                             per_side_backward: bool = True,
                             model: PhazeA | None = None) -> dict[str, int]:
    """Bytes one training step of `options` needs at `batch_size` faces per side.

    optimizer: its name decides the state kept per parameter (see OPTIMIZER_STATES).
    dtype_bytes: 4 for float32 training, 2 for bf16/fp16 autocast (activations, and the half
        copies of the weights autocast keeps for backward, counted as autocast makes them).
        Weights, gradients and optimiser state stay float32, as the trainer keeps them.
    device: "cuda" or "cpu". The estimate itself runs on the meta device either way; on the
        CPU the peak also holds oneDNN's reordered copies of the weights (`workspace_bytes`).
    per_side_backward: the trainer's default (SpeedConfig.per_side_backward) runs backward
        after each side, so only the larger side's activations are alive at once; False
        counts both sides.
    model: the options' model already built on meta, so it is not built again; the estimate
        consumes it (its weights are moved onto fake tensors).

    Returns batch_size, weights_bytes, gradients_bytes, optimizer_bytes, activations_bytes,
    workspace_bytes and total_bytes (their sum).
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
    OPTIMIZER_STATES.check(optimizer)
    if dtype_bytes not in (2, 4):
        raise ValueError(f"dtype_bytes must be 2 or 4, got {dtype_bytes}")
    model = model or build_model(options, "meta")
    weights = sum(p.numel() for p in model.parameters()) * FLOAT32_BYTES
    gradients = _gradient_bytes(model)
    states = gradients * OPTIMIZER_STATES[optimizer]
    per_side = saved_activation_bytes(model, batch_size, dtype_bytes)
    activations = max(per_side.values()) if per_side_backward else sum(per_side.values())
    workspace = _cpu_weight_copies(model) if device == "cpu" else 0
    return {"batch_size": batch_size, "weights_bytes": weights, "gradients_bytes": gradients,
            "optimizer_bytes": states, "activations_bytes": activations,
            "workspace_bytes": workspace,
            "total_bytes": weights + gradients + states + activations + workspace}


# Stepping inside backward needs one backward over both sides: the second side's activations
# stay alive too, while no gradient outlives its update. Worth it where the activations are
# clearly the smaller (the estimate was 0.07 GiB optimistic on `original`, docs/performance.md).
IN_BACKWARD_ACTIVATION_SHARE = 0.75


def one_backward_saves_memory(options: PhazeAOptions, batch_size: int,
                              dtype_bytes: int) -> bool:
    """Whether stepping the optimiser inside one backward over both sides lowers the peak:
    true when the smaller side's activations are under IN_BACKWARD_ACTIVATION_SHARE of the
    gradients' bytes."""
    model = build_model(options, "meta")
    gradients = _gradient_bytes(model)
    second_side = min(saved_activation_bytes(model, batch_size, dtype_bytes).values())
    return second_side < IN_BACKWARD_ACTIVATION_SHARE * gradients


def _gradient_bytes(model: nn.Module) -> int:
    """Float32 gradients of the trainable weights (the optimiser's moments are as large)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad) * FLOAT32_BYTES


def saved_activation_bytes(model: PhazeA, batch_size: int,
                           dtype_bytes: int = 4) -> dict[str, int]:
    """Bytes autograd saves for backward in one step of `model` (built on meta), per side.

    `model` is moved onto fake tensors in place; build a fresh one to use it afterwards.

    Each storage counts once however many operations save it (or a view of it); parameters are
    not activations and are left out. `dtype_bytes=2` runs the forward under bf16 autocast.
    The shared encoder is counted in a pass of its own, remembered per encoder design and batch
    (a backbone's fake forward is most of an estimate's time), then each side's pathway from
    an encoder output of the planned shape.
    """
    key = option_key(model.options, ENCODER_GROUPS)
    encoder = _encoder_saved_bytes(key, model.input_size, batch_size, dtype_bytes)
    pathways = _pathway_saved_bytes(model, batch_size, dtype_bytes)
    return {side: encoder.inner_bytes + saved.bytes
            + (encoder.output_bytes if encoder.output_saved and not saved.input_saved else 0)
            for side, saved in pathways.items()}


class _SavedStorages:
    """Counts every storage autograd saves once, except parameters' and those it is told to
    skip; keeps each counted tensor alive so its storage id is not reused."""

    def __init__(self, module: nn.Module) -> None:
        self.skipped = {p.untyped_storage()._cdata for p in module.parameters()}
        self.sizes: dict[int, int] = {}
        self._kept: list[torch.Tensor] = []

    def _pack(self, tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        key = storage._cdata
        if key not in self.skipped and key not in self.sizes:
            self.sizes[key] = storage.nbytes()
            self._kept.append(tensor)
        return tensor

    def hooks(self):
        return torch.autograd.graph.saved_tensors_hooks(self._pack, lambda t: t)

    def keep(self, tensor: torch.Tensor) -> None:
        self._kept.append(tensor)

    def saved(self, tensor: torch.Tensor) -> bool:
        return tensor.untyped_storage()._cdata in self.sizes

    def total(self) -> int:
        return sum(self.sizes.values())


class _EncoderSaved(NamedTuple):
    inner_bytes: int      # everything the encoder saves but its output
    output_bytes: int
    output_saved: bool    # the encoder's last operation saves its own output


class _PathwaySaved(NamedTuple):
    bytes: int
    input_saved: bool     # the pathway's first operations save the encoder output


def _fake_pass(dtype_bytes: int):
    """The mode and autocast a counting pass runs in. Half precision runs under bf16 autocast
    (fp16 saves the same bytes), so half activations and the half copies of the weights are
    counted as they are made."""
    mode = FakeTensorMode(allow_non_fake_inputs=True)
    return mode, torch.autocast("cpu", dtype=torch.bfloat16, enabled=dtype_bytes == 2)


@functools.lru_cache(maxsize=64)
def _encoder_saved_bytes(key: OptionKey, input_size: int, batch_size: int,
                         dtype_bytes: int) -> _EncoderSaved:
    options = options_from_key(key)
    spec = ENCODERS.get_entry(options.enc_architecture)
    mode, autocast = _fake_pass(dtype_bytes)
    with torch.device("meta"):
        encoder = Encoder(spec, options, input_size, backbone_output_shape(options, input_size))
    with mode:
        encoder.to_empty(device="cpu")
    counter = _SavedStorages(encoder)
    with mode, autocast, counter.hooks():
        output = encoder(torch.empty(batch_size, 3, input_size, input_size))
    output_bytes = output.untyped_storage().nbytes()
    saved = counter.saved(output)
    return _EncoderSaved(counter.total() - (output_bytes if saved else 0), output_bytes, saved)


def _pathway_saved_bytes(model: PhazeA, batch_size: int,
                         dtype_bytes: int) -> dict[str, _PathwaySaved]:
    from phaze.train.losses import FaceLoss  # train imports model; not at import
    from phaze.train.loss_config import LossConfig

    mode, autocast = _fake_pass(dtype_bytes)
    with mode:
        for name, submodel in model.submodels().items():
            if name != "encoder":      # its pass is separate; faking its weights is slow
                submodel.to_empty(device="cpu")
    counter = _SavedStorages(model)
    loss = FaceLoss(LossConfig(learn_mask=model.options.learn_mask))
    size_out = model.output_size
    per_side = {}
    with mode, autocast, counter.hooks():
        for side in SIDES:
            before = counter.total()
            encoded = torch.empty(batch_size, *model.design.encoder_out)
            targets = torch.empty(batch_size, 3, size_out, size_out)
            masks = torch.empty(batch_size, 1, size_out, size_out)
            output = model.pathway(encoded, side)
            counter.keep(loss(output.face, targets, masks, output.mask).total)
            per_side[side] = _PathwaySaved(counter.total() - before, counter.saved(encoded))
    return per_side


def _cpu_weight_copies(model: nn.Module) -> int:
    """oneDNN reorders convolution weights into its own layout for the forward and backward
    passes; those copies of the 4-D weights live while a step runs."""
    return sum(p.numel() for p in model.parameters() if p.dim() == 4) * FLOAT32_BYTES
