"""Building the configured optimiser over a model's trainable parameters, in two groups."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer

from phaze.errors import ConfigError
from phaze.registry import Registry
from phaze.train.optim import channels_last_adam
from phaze.train.optim.bf16_adam import BFloat16MomentAdam, native_kernel_available
from phaze.train.optim.groupwise import AdaBelief, Lion

if TYPE_CHECKING:
    from phaze.train.optim.config import OptimizerConfig

# name → factory(param_groups, config) → Optimizer
OPTIMIZERS: Registry[Callable[[list[dict[str, Any]], OptimizerConfig], Optimizer]] = \
    Registry("optimizer")


def build_optimizer(params_or_model: nn.Module | Iterable[Tensor],
                    config: OptimizerConfig) -> Optimizer:
    """The configured optimiser over the trainable parameters, in two groups.

    Group 0 ("decay") holds tensors of rank ≥ 2 and gets `weight_decay`; group 1 ("no_decay")
    holds biases and norm scales. Both groups always exist (one may be empty) so that saved
    optimiser states keep the same layout.
    """
    groups = _param_groups(params_or_model, config.weight_decay)
    return OPTIMIZERS.get_entry(config.name)(groups, config)


def _adam_family(torch_class: type[Optimizer], decoupled_weight_decay: bool):
    """Adam (L2 weight decay) or AdamW (decoupled): torch's, or the bfloat16-moment version."""
    def build(groups: list[dict[str, Any]], config: OptimizerConfig) -> Optimizer:
        if moments_in_bfloat16(config, groups):
            return _bfloat16_moment_adam(groups, config, decoupled_weight_decay)
        return torch_class(groups, lr=config.learning_rate, betas=config.betas,
                           eps=config.epsilon, amsgrad=config.amsgrad,
                           **_torch_kernel(groups, config.fused))
    return build


OPTIMIZERS.add("adam", _adam_family(channels_last_adam.Adam, decoupled_weight_decay=False))
OPTIMIZERS.add("adamw", _adam_family(channels_last_adam.AdamW, decoupled_weight_decay=True))


def moments_in_bfloat16(config: OptimizerConfig, groups: list[dict[str, Any]]) -> bool:
    """Whether Adam keeps bfloat16 moments: asked for, or `auto` where their one-pass kernel
    runs (float32 weights on the CPU, `fused` not switched off, a C compiler that builds it).
    There it is as fast as torch's fused float32 Adam and saves 4 bytes a weight."""
    if config.moments != "auto":
        return config.moments == "bfloat16"
    params = [param for group in groups for param in group["params"]]
    on_cpu = all(p.device.type == "cpu" and p.dtype == torch.float32 for p in params)
    return config.fused is not False and on_cpu and native_kernel_available()


def moments_label(optimizer: Optimizer) -> str:
    """'bfloat16 Adam moments' for the optimiser that keeps them, else '' (for the run log)."""
    return "bfloat16 Adam moments" if isinstance(optimizer, BFloat16MomentAdam) else ""


def _bfloat16_moment_adam(groups: list[dict[str, Any]], config: OptimizerConfig,
                          decoupled_weight_decay: bool) -> Optimizer:
    """Adam/AdamW with bfloat16 moments; a one-pass kernel (on the CPU as fast as torch's fused
    float32 Adam, docs/performance.md) unless `fused` is False, which asks for torch ops."""
    return BFloat16MomentAdam(groups, lr=config.learning_rate, betas=config.betas,
                              eps=config.epsilon, amsgrad=config.amsgrad,
                              decoupled_weight_decay=decoupled_weight_decay,
                              kernel="eager" if config.fused is False else "auto")


@OPTIMIZERS.register("adabelief")
def _adabelief(groups: list[dict[str, Any]], config: OptimizerConfig) -> Optimizer:
    return AdaBelief(groups, lr=config.learning_rate, betas=config.betas, eps=config.epsilon,
                     amsgrad=config.amsgrad)


@OPTIMIZERS.register("lion")
def _lion(groups: list[dict[str, Any]], config: OptimizerConfig) -> Optimizer:
    return Lion(groups, lr=config.learning_rate, betas=config.betas)


@OPTIMIZERS.register("sgd")
def _sgd(groups: list[dict[str, Any]], config: OptimizerConfig) -> Optimizer:
    """Plain SGD, no state: weights move by exactly -lr × gradient, which makes it the
    reference when two ways of computing the same gradient are compared."""
    return torch.optim.SGD(groups, lr=config.learning_rate)


OPTIMIZER_NAMES = OPTIMIZERS.names()


def _param_groups(params_or_model: nn.Module | Iterable[Tensor],
                  weight_decay: float) -> list[dict[str, Any]]:
    params = params_or_model.parameters() if isinstance(params_or_model, nn.Module) \
        else params_or_model
    unique = {id(param): param for param in params if param.requires_grad}
    trainable = list(unique.values())
    if not trainable:
        raise ConfigError("there are no trainable parameters to optimise; every weight is "
                          "frozen")
    return [
        {"params": [p for p in trainable if p.ndim >= 2], "weight_decay": weight_decay,
         "name": "decay"},
        {"params": [p for p in trainable if p.ndim < 2], "weight_decay": 0.0,
         "name": "no_decay"},
    ]


def _torch_kernel(groups: list[dict[str, Any]], fused: bool | None) -> dict[str, bool]:
    """Fused kernels (one pass per tensor) unless switched off or unsupported, else foreach.

    torch has fused Adam/AdamW for float CPU and CUDA tensors; on the CPU it measured 5x
    faster than foreach (docs/performance.md).
    """
    params = [p for group in groups for p in group["params"]]
    supported = all(p.device.type in ("cpu", "cuda") and p.is_floating_point() for p in params)
    if fused is None:
        fused = supported
    if fused and not supported:
        raise ConfigError("optimizer option 'fused' is True but torch has no fused kernel for "
                          "these parameters (float tensors on cpu or cuda only); allowed: "
                          "None or False")
    return {"fused": True} if fused else {"foreach": True}
