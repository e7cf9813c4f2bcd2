"""Optimisers, gradient clipping and learning-rate warm-up for training (spec §11)."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from phaze.errors import ConfigError
from phaze.registry import Registry

# name → factory(param_groups, config) → Optimizer; filled below, next to the optimisers.
OPTIMIZERS: Registry[Callable[[list[dict[str, Any]], OptimizerConfig], Optimizer]] = \
    Registry("optimizer")
# name → clip(clipper, params, grads, total_norm), in place; filled in the clipping section.
CLIPPING_METHODS: Registry[Callable[[GradientClipper, list[Tensor], list[Tensor], Tensor], None]] \
    = Registry("clipping method")
LEARNING_RATE_RANGE = (1e-6, 1e-1)
EPSILON_EXPONENT_RANGE = (-20, 0)
# How Adam's two moments are stored between steps; bfloat16 halves their memory (bf16_adam.py).
MOMENT_DTYPES = ("float32", "bfloat16")
BFLOAT16_MOMENT_OPTIMIZERS = ("adam", "adamw")
# Added to norms before dividing, as torch's own clipping does.
NORM_FLOOR = 1e-6


# --- configuration ------------------------------------------------------------------------------

@dataclass(frozen=True)
class OptimizerConfig:
    """Optimiser, clipping and warm-up options, with faceswap's defaults.

    Weight decay follows torch's meaning per optimiser: L2 added to the gradient for `adam`,
    decoupled (p ← p − lr·wd·p) for `adamw`, `adabelief` and `lion`. Either way it applies only to
    tensors of rank ≥ 2 (weights, not biases or norm scales). `beta_2` is shared by every
    optimiser; Lion's paper prefers 0.99 to the default 0.999, with which Lion converges slowly.
    """

    name: str = "adam"
    learning_rate: float = 5e-5
    epsilon_exponent: int = -7
    beta_1: float = 0.9
    beta_2: float = 0.999
    amsgrad: bool = False
    weight_decay: float = 0.0
    clipping: str = "none"
    clipping_value: float = 1.0
    autoclip_history: int = 10000
    warmup_steps: int = 0
    fused: bool | None = None  # adam/adamw kernels: None = fused where torch has them
    moments: str = "float32"   # adam/adamw: "bfloat16" stores both moments in half the memory

    def __post_init__(self) -> None:
        OPTIMIZERS.check(self.name)
        CLIPPING_METHODS.check(self.clipping)
        _check_number("learning_rate", self.learning_rate, *LEARNING_RATE_RANGE)
        _check_integer("epsilon_exponent", self.epsilon_exponent, *EPSILON_EXPONENT_RANGE)
        _check_beta("beta_1", self.beta_1)
        _check_beta("beta_2", self.beta_2)
        _check_number("weight_decay", self.weight_decay, 0.0, 1.0)
        _check_integer("autoclip_history", self.autoclip_history, 1, 10**8)
        _check_integer("warmup_steps", self.warmup_steps, 0, 10**9)
        self._check_clipping_value()
        if self.amsgrad and self.name == "lion":
            raise ConfigError("optimizer option 'amsgrad' is True but 'lion' has no second "
                              "moment; allowed with: adam, adamw, adabelief")
        self._check_moments()

    @property
    def epsilon(self) -> float:
        """The numerical-stability term, 10 ** `epsilon_exponent`."""
        return 10.0 ** self.epsilon_exponent

    @property
    def betas(self) -> tuple[float, float]:
        return (self.beta_1, self.beta_2)

    def _check_moments(self) -> None:
        if self.moments not in MOMENT_DTYPES:
            raise ConfigError(f"optimizer option 'moments' is {self.moments!r}; allowed: "
                              + ", ".join(MOMENT_DTYPES))
        if self.moments == "bfloat16" and self.name not in BFLOAT16_MOMENT_OPTIMIZERS:
            raise ConfigError(f"optimizer option 'moments' is 'bfloat16' but {self.name!r} has "
                              "no bfloat16-moment version; allowed with: "
                              + ", ".join(BFLOAT16_MOMENT_OPTIMIZERS))

    def _check_clipping_value(self) -> None:
        # autoclip reads the value as a percentile / 10, so it cannot exceed 10 (= 100th).
        high = 10.0 if self.clipping == "autoclip" else math.inf
        _check_number("clipping_value", self.clipping_value, 0.0, high)
        if self.clipping_value == 0.0:
            raise ConfigError("optimizer option 'clipping_value' is 0; allowed: a value > 0")


def _check_number(option: str, value: object, low: float, high: float) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) \
        and math.isfinite(value) and low <= value <= high
    if not ok:
        raise ConfigError(f"optimizer option {option!r} is {value!r}; allowed: {low} to {high}")


def _check_integer(option: str, value: object, low: int, high: int) -> None:
    ok = isinstance(value, int) and not isinstance(value, bool) and low <= value <= high
    if not ok:
        raise ConfigError(f"optimizer option {option!r} is {value!r}; allowed: a whole number "
                          f"from {low} to {high}")


def _check_beta(option: str, value: object) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0.0 <= value < 1.0
    if not ok:
        raise ConfigError(f"optimizer option {option!r} is {value!r}; allowed: 0 <= value < 1")


# --- optimisers written here --------------------------------------------------------------------

class _GroupwiseOptimizer(Optimizer):
    """An optimiser whose update is written once per parameter group (`_step_group`)."""

    @torch.no_grad()
    def step(self, closure: Callable[[], Tensor] | None = None) -> Tensor | None:
        """One update; `closure`, as in torch, re-evaluates the loss and returns it."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            self._step_group(group)
        return loss

    def _step_group(self, group: dict[str, Any]) -> None:
        raise NotImplementedError


def _dense_grad(param: Tensor, optimizer_name: str) -> Tensor:
    if param.grad.is_sparse:
        raise RuntimeError(f"{optimizer_name} does not support sparse gradients")
    return param.grad


class AdaBelief(_GroupwiseOptimizer):
    """AdaBelief (Zhuang et al., NeurIPS 2020) with decoupled weight decay.

    Adam's second moment of g is replaced by the "belief" s, the EMA of (g − m)²: steps are large
    where the gradient agrees with its running mean and small where it does not.
        m ← β1·m + (1−β1)·g
        s ← β2·s + (1−β2)·(g − m)² + ε
        p ← p − lr · (m / (1−β1ᵗ)) / (√(s / (1−β2ᵗ)) + ε)
    With `amsgrad` the running maximum of s is used. The paper's ε is around 1e-16.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-16,
                 weight_decay: float = 0.0, amsgrad: bool = False) -> None:
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid AdaBelief settings: lr={lr}, betas={betas}, eps={eps}, "
                             f"weight_decay={weight_decay}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad}
        super().__init__(params, defaults)

    def _step_group(self, group: dict[str, Any]) -> None:
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        grads = [_dense_grad(p, "AdaBelief") for p in params]
        states = [self._state_for(p, group["amsgrad"]) for p in params]
        beta_1, beta_2 = group["betas"]
        lr, eps, weight_decay = group["lr"], group["eps"], group["weight_decay"]
        steps = [state["step"] for state in states]
        torch._foreach_add_(steps, 1.0)  # CPU scalars: reading them back costs no device sync
        exp_avgs = [state["exp_avg"] for state in states]
        beliefs = [state["exp_avg_var"] for state in states]

        if weight_decay:
            torch._foreach_mul_(params, 1.0 - lr * weight_decay)
        torch._foreach_lerp_(exp_avgs, grads, 1.0 - beta_1)
        deviations = torch._foreach_sub(grads, exp_avgs)
        torch._foreach_mul_(beliefs, beta_2)
        torch._foreach_addcmul_(beliefs, deviations, deviations, value=1.0 - beta_2)
        torch._foreach_add_(beliefs, eps)
        if group["amsgrad"]:
            maxima = [state["max_exp_avg_var"] for state in states]
            torch._foreach_maximum_(maxima, beliefs)
            beliefs = maxima

        counts = [step.item() for step in steps]
        denominators = torch._foreach_sqrt(beliefs)
        torch._foreach_div_(denominators, [math.sqrt(1.0 - beta_2**t) for t in counts])
        torch._foreach_add_(denominators, eps)
        torch._foreach_addcdiv_(params, exp_avgs, denominators,
                                [-lr / (1.0 - beta_1**t) for t in counts])

    def _state_for(self, param: Tensor, amsgrad: bool) -> dict[str, Tensor]:
        state = self.state[param]
        if not state:
            state["step"] = torch.tensor(0.0)
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
            state["exp_avg_var"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        if amsgrad and "max_exp_avg_var" not in state:
            state["max_exp_avg_var"] = torch.zeros_like(param,
                                                        memory_format=torch.preserve_format)
        return state


class Lion(_GroupwiseOptimizer):
    """Lion (Chen et al., 2023, "Symbolic Discovery of Optimization Algorithms").

    The step is the sign of an interpolation between momentum and gradient, so every element
    moves by exactly lr; the momentum itself uses a slower β2. No epsilon.
        c ← β1·m + (1−β1)·g
        p ← p·(1 − lr·wd) − lr·sign(c)
        m ← β2·m + (1−β2)·g
    The paper suggests a learning rate 3–10× smaller than AdamW's and betas (0.9, 0.99).
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-4,
                 betas: tuple[float, float] = (0.9, 0.99), weight_decay: float = 0.0) -> None:
        if lr < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid Lion settings: lr={lr}, betas={betas}, "
                             f"weight_decay={weight_decay}")
        super().__init__(params, {"lr": lr, "betas": tuple(betas), "weight_decay": weight_decay})

    def _step_group(self, group: dict[str, Any]) -> None:
        params = [p for p in group["params"] if p.grad is not None]
        if not params:
            return
        grads = [_dense_grad(p, "Lion") for p in params]
        momenta = [self._momentum_for(p) for p in params]
        beta_1, beta_2 = group["betas"]
        lr, weight_decay = group["lr"], group["weight_decay"]

        updates = torch._foreach_lerp(momenta, grads, 1.0 - beta_1)
        torch._foreach_sign_(updates)
        if weight_decay:
            torch._foreach_mul_(params, 1.0 - lr * weight_decay)
        torch._foreach_add_(params, updates, alpha=-lr)
        torch._foreach_lerp_(momenta, grads, 1.0 - beta_2)

    def _momentum_for(self, param: Tensor) -> Tensor:
        state = self.state[param]
        if not state:
            state["exp_avg"] = torch.zeros_like(param, memory_format=torch.preserve_format)
        return state["exp_avg"]


# --- building -----------------------------------------------------------------------------------

def build_optimizer(params_or_model: nn.Module | Iterable[Tensor],
                    config: OptimizerConfig) -> Optimizer:
    """The configured optimiser over the trainable parameters, in two groups.

    Group 0 ("decay") holds tensors of rank ≥ 2 and gets `weight_decay`; group 1 ("no_decay")
    holds biases and norm scales. Both groups always exist (one may be empty) so that saved
    optimiser states keep the same layout.
    """
    groups = _param_groups(params_or_model, config.weight_decay)
    return OPTIMIZERS.get_entry(config.name)(groups, config)


@OPTIMIZERS.register("adam")
def _adam(groups: list[dict[str, Any]], config: OptimizerConfig) -> Optimizer:
    if config.moments == "bfloat16":
        return _bfloat16_moment_adam(groups, config, decoupled_weight_decay=False)
    return torch.optim.Adam(groups, lr=config.learning_rate, betas=config.betas,
                            eps=config.epsilon, amsgrad=config.amsgrad,
                            **_torch_kernel(groups, config.fused))


@OPTIMIZERS.register("adamw")
def _adamw(groups: list[dict[str, Any]], config: OptimizerConfig) -> Optimizer:
    if config.moments == "bfloat16":
        return _bfloat16_moment_adam(groups, config, decoupled_weight_decay=True)
    return torch.optim.AdamW(groups, lr=config.learning_rate, betas=config.betas,
                             eps=config.epsilon, amsgrad=config.amsgrad,
                             **_torch_kernel(groups, config.fused))


def _bfloat16_moment_adam(groups: list[dict[str, Any]], config: OptimizerConfig,
                          decoupled_weight_decay: bool) -> Optimizer:
    """Adam/AdamW with bfloat16 moments; the compiled update (3x faster than eager on the CPU,
    docs/performance.md) unless `fused` is False, which asks for no special kernel."""
    from phaze.train.bf16_adam import BFloat16MomentAdam

    return BFloat16MomentAdam(groups, lr=config.learning_rate, betas=config.betas,
                              eps=config.epsilon, amsgrad=config.amsgrad,
                              decoupled_weight_decay=decoupled_weight_decay,
                              compile=config.fused is not False)


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


# --- clipping -----------------------------------------------------------------------------------

class GradientClipper:
    """Clips gradients in place as configured and reports the global norm before clipping.

    `autoclip` (Seetharaman et al., 2020) records every global norm in a ring buffer that lives
    on the gradients' device, so clipping never waits on the host; the threshold is the
    p-th percentile (p = 10 × `clipping_value`) of the recorded norms, the current one included.
    Non-finite norms (overflowing mixed-precision steps) are recorded as NaN and ignored.
    With a GradScaler, call `scaler.unscale_(optimizer)` first so the norms are real ones.
    """

    def __init__(self, config: OptimizerConfig) -> None:
        self.mode = config.clipping
        self.value = config.clipping_value
        self.history_size = config.autoclip_history
        self.percentile = 10.0 * config.clipping_value
        self._history: Tensor | None = None  # (history_size,), ring buffer
        self._recorded = 0  # norms ever recorded; next slot is _recorded % history_size

    def clip(self, parameters: Iterable[Tensor]) -> Tensor:
        """Clip the gradients of `parameters`; return their global L2 norm before clipping."""
        params = [p for p in parameters if p.grad is not None]
        grads = [p.grad for p in params]
        if not grads:
            return torch.tensor(0.0)
        with torch.no_grad():
            total_norm = torch.nn.utils.get_total_norm(grads)
            CLIPPING_METHODS[self.mode](self, params, grads, total_norm)
        return total_norm

    def _autoclip_threshold(self, total_norm: Tensor) -> Tensor:
        if self._history is None:
            self._history = torch.full((self.history_size,), math.nan,
                                       device=total_norm.device)
        elif self._history.device != total_norm.device:
            self._history = self._history.to(total_norm.device)
        finite = torch.where(torch.isfinite(total_norm), total_norm, math.nan)
        self._history[self._recorded % self.history_size] = finite
        self._recorded += 1
        filled = self._history[:min(self._recorded, self.history_size)]
        return torch.nanquantile(filled, self.percentile / 100.0)

    def history(self) -> Tensor:
        """The recorded global norms, oldest first, (min(recorded, history_size),)."""
        if self._history is None:
            return torch.empty(0)
        if self._recorded <= self.history_size:
            return self._history[:self._recorded].clone()
        return torch.roll(self._history, -(self._recorded % self.history_size)).clone()

    def state_dict(self) -> dict[str, Tensor]:
        return {"history": self.history()}

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Restore the recorded norms; keeps the newest ones if the history is now shorter."""
        recorded = state["history"][-self.history_size:].float()
        self._history = torch.full((self.history_size,), math.nan, device=recorded.device)
        self._history[:len(recorded)] = recorded
        self._recorded = len(recorded)


def _scale_to_norm(grads: list[Tensor], total_norm: Tensor, max_norm: float | Tensor) -> None:
    """Scale all gradients together so their global norm is at most `max_norm`.

    torch's clip_grads_with_norm_ converts max_norm with float(), a host sync for a tensor.
    """
    coefficient = (max_norm / (total_norm + NORM_FLOOR)).clamp(max=1.0)
    coefficient = torch.nan_to_num(coefficient, nan=1.0)  # an empty or NaN history: no clip
    for device, device_grads in _by_device(grads).items():
        torch._foreach_mul_(device_grads, coefficient.to(device))


def _clip_each_norm(grads: list[Tensor], max_norm: float) -> None:
    """Scale each gradient tensor on its own so its norm is at most `max_norm`."""
    for grad, norm in zip(grads, torch._foreach_norm(grads)):
        grad.mul_((max_norm / (norm + NORM_FLOOR)).clamp(max=1.0))


def _by_device(tensors: list[Tensor]) -> dict[torch.device, list[Tensor]]:
    grouped: dict[torch.device, list[Tensor]] = {}
    for tensor in tensors:
        grouped.setdefault(tensor.device, []).append(tensor)
    return grouped



@CLIPPING_METHODS.register("none")
def _clip_none(clipper: GradientClipper, params: list[Tensor], grads: list[Tensor],
               total_norm: Tensor) -> None:
    """Only measures the norm."""


@CLIPPING_METHODS.register("global_norm")
def _clip_global_norm(clipper: GradientClipper, params: list[Tensor], grads: list[Tensor],
                      total_norm: Tensor) -> None:
    _scale_to_norm(grads, total_norm, clipper.value)


@CLIPPING_METHODS.register("norm")
def _clip_norm(clipper: GradientClipper, params: list[Tensor], grads: list[Tensor],
               total_norm: Tensor) -> None:
    _clip_each_norm(grads, clipper.value)


@CLIPPING_METHODS.register("value")
def _clip_value(clipper: GradientClipper, params: list[Tensor], grads: list[Tensor],
                total_norm: Tensor) -> None:
    torch.nn.utils.clip_grad_value_(params, clipper.value)


@CLIPPING_METHODS.register("autoclip")
def _clip_auto(clipper: GradientClipper, params: list[Tensor], grads: list[Tensor],
               total_norm: Tensor) -> None:
    _scale_to_norm(grads, total_norm, clipper._autoclip_threshold(total_norm))


CLIPPING_MODES = CLIPPING_METHODS.names()

# --- warm-up ------------------------------------------------------------------------------------

class _LinearWarmup:
    """LR factor rising linearly from 0 to 1 over `steps` scheduler steps, then 1.

    A class rather than a lambda so LambdaLR's state_dict can save it.
    """

    def __init__(self, steps: int) -> None:
        self.steps = steps

    def __call__(self, step: int) -> float:
        return 1.0 if self.steps == 0 else min(1.0, step / self.steps)


def warmup_scheduler(optimizer: Optimizer, warmup_steps: int) -> LambdaLR:
    """Linear warm-up: lr is 0 at step 0, reaches the configured lr after `warmup_steps`
    `scheduler.step()` calls and stays there; 0 steps means a constant lr."""
    _check_integer("warmup_steps", warmup_steps, 0, 10**9)
    return LambdaLR(optimizer, _LinearWarmup(warmup_steps))
