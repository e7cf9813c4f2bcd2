"""Adam / AdamW whose two moments are stored in bfloat16 between steps, to halve their memory.

The update itself is torch.optim.Adam's (same bias correction, L2 weight decay for Adam and
decoupled decay for AdamW, optional amsgrad), computed in float32 one parameter tensor at a
time, so the temporaries (a few, float32 or int32) are each one tensor's size, never the
model's. The state keys are torch's ("step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"), so
checkpoints keep the same layout and resume in either direction between this optimiser and
torch's float32 Adam.

The rounding noise is a hash of (element, tensor, step), not a draw from torch's generator: a
resumed run continues bit for bit, and the result does not depend on the order the tensors are
stepped in (the optimiser step inside backward steps them as their gradients arrive).
"""
from __future__ import annotations

import ctypes
import functools
import logging
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer

from phaze.train.optim.groupwise import GroupwiseOptimizer, dense_grad
from phaze.train.optim.native_kernel import KernelBuildError, load_kernel

logger = logging.getLogger(__name__)

MOMENT_DTYPE = torch.bfloat16
MOMENT_KEYS = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
KERNELS = ("auto", "native", "compile", "eager")
# bfloat16 is the top half of a float32's bits: keep the high 16, drop the low 16.
_HIGH_HALF = -(1 << 16)  # 0xFFFF0000 as an int32


def round_stochastic_(target: Tensor, value: Tensor, noise: Tensor) -> Tensor:
    """Write float32 `value` into bfloat16 `target`, rounding up with probability equal to the
    dropped fraction (given `noise` uniform in [0, 2**16), int32, `value`'s shape), so the
    stored value is unbiased in expectation.

    Why not round-to-nearest: with beta_2 = 0.999 exp_avg_sq changes by about 0.1 % a step,
    less than half a bfloat16 ulp (0.4 %), so nearest rounding would give back the old value
    every step and the second moment would freeze. Adding uniform noise below the kept bits and
    truncating moves it up by one ulp with the right probability instead.
    """
    noisy = noise + value.view(torch.int32)
    noisy.bitwise_and_(_HIGH_HALF)
    # The low 16 bits are zero now, so this conversion is exact (no second rounding).
    return target.copy_(noisy.view(torch.float32))


def noise_seed(tensor_index: int, step: int) -> int:
    """An int32 seed for one tensor at one step; neighbouring tensors and steps get far-apart
    seeds (multiples of two odd constants, wrapped to 32 bits)."""
    mixed = (tensor_index * 0x9E3779B1 + step * 0x85EBCA6B) & 0xFFFFFFFF
    return mixed - (1 << 32) if mixed >= 1 << 31 else mixed


def _adam_update_eager(param: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor,
                       max_exp_avg_sq: Tensor | None, lr: float, beta_1: float, beta_2: float,
                       eps: float, weight_decay: float, decoupled: bool, step: float,
                       seed: int) -> None:
    """One Adam step for one tensor; moments are bfloat16 in, bfloat16 (stochastic) out."""
    if weight_decay:
        if decoupled:
            param.mul_(1.0 - lr * weight_decay)
        else:
            grad = grad.add(param, alpha=weight_decay)
    first = exp_avg.float()
    first.lerp_(grad, 1.0 - beta_1)
    second = exp_avg_sq.float()
    second.mul_(beta_2).addcmul_(grad, grad, value=1.0 - beta_2)
    low, high = (noise.view(param.shape) for noise in _hash_noise(param.numel(), seed,
                                                                   param.device))
    round_stochastic_(exp_avg_sq, second, low)
    if max_exp_avg_sq is not None:
        torch.maximum(second, max_exp_avg_sq.float(), out=second)
        round_stochastic_(max_exp_avg_sq, second, low)
    step_size = lr / (1.0 - beta_1 ** step)
    bias_correction2_sqrt = math.sqrt(1.0 - beta_2 ** step)
    denominator = second.sqrt_().div_(bias_correction2_sqrt).add_(eps)  # reuses `second`
    param.addcdiv_(first, denominator, value=-step_size)
    round_stochastic_(exp_avg, first, high)


def _adam_update_flat(param: Tensor, grad: Tensor, exp_avg: Tensor, exp_avg_sq: Tensor,
                      max_exp_avg_sq: Tensor | None, beta_1: float, beta_2: float, eps: float,
                      l2_decay: float, decoupled_factor: float, step_size: float,
                      bias_correction2_sqrt: float, seed: int) -> None:
    """The same step written for torch.compile on 1-D views, so one fused loop does it all.

    With dynamic=True the floats and the seed are kernel arguments (one graph for every step
    and lr; float scalars as 0-d tensors measured 30 % slower). The decay not in use is 0 / 1
    (adding 0·p or multiplying by 1 is exact). The rounding noise is a hash of the element index
    and `seed` (noise_seed): torch's own random numbers measured 4x dearer here (200 ms vs
    47 ms for 16 M elements on a 2-core CPU).
    """
    decayed = param * decoupled_factor
    grad = grad + decayed * l2_decay
    first = exp_avg.float().lerp(grad, 1.0 - beta_1)
    second = exp_avg_sq.float() * beta_2 + grad * grad * (1.0 - beta_2)
    low, high = _hash_noise(param.numel(), seed, param.device)
    exp_avg_sq.copy_(_add_noise_truncate(second, low))
    if max_exp_avg_sq is not None:
        second = torch.maximum(second, max_exp_avg_sq.float())
        # Same noise as exp_avg_sq: where the maximum is exp_avg_sq, both round alike.
        max_exp_avg_sq.copy_(_add_noise_truncate(second, low))
    # One write of the parameter (in-place ops on an input cost inductor an extra pass).
    param.copy_(decayed - step_size * first / (second.sqrt() / bias_correction2_sqrt + eps))
    exp_avg.copy_(_add_noise_truncate(first, high))


def _hash_noise(count: int, seed: int | Tensor, device: torch.device) -> tuple[Tensor, Tensor]:
    """Two 16-bit noise values per element: the top halves of (index + seed) times two odd
    constants (Fibonacci hashing; int32 products wrap). Consecutive indices give evenly spread
    values, and the seed shifts the sequence for each tensor and step."""
    index = torch.arange(count, dtype=torch.int32, device=device) + seed
    first = index * -1640531535  # 0x9E3779B1, 2**32 / golden ratio
    second = index * 739982445
    return (first >> 16) & 0xFFFF, (second >> 16) & 0xFFFF


def _add_noise_truncate(value: Tensor, noise: Tensor) -> Tensor:
    """bfloat16 of `value` stochastically rounded with 16-bit `noise` (as round_stochastic_)."""
    noisy = (value.view(torch.int32) + noise) & _HIGH_HALF
    return noisy.view(torch.float32).to(MOMENT_DTYPE)


@dataclass(frozen=True)
class _StepScalars:
    """One tensor's update constants; the decay not in use is 0 (L2) or 1 (decoupled)."""

    beta_1: float
    beta_2: float
    eps: float
    l2_decay: float
    decoupled_factor: float
    step_size: float
    bias_correction2_sqrt: float

    @classmethod
    def of(cls, group: dict[str, Any], step: float) -> _StepScalars:
        beta_1, beta_2 = group["betas"]
        lr, decay = float(group["lr"]), group["weight_decay"]
        decoupled = group["decoupled_weight_decay"]
        return cls(beta_1, beta_2, group["eps"], 0.0 if decoupled else decay,
                   1.0 - lr * decay if decoupled else 1.0, lr / (1.0 - beta_1 ** step),
                   math.sqrt(1.0 - beta_2 ** step))


@functools.cache
def _native_library() -> ctypes.CDLL:
    """bf16_adam_kernel.c, built and loaded once per process (KernelBuildError if it cannot)."""
    library = load_kernel(Path(__file__).with_name("bf16_adam_kernel.c"))
    function = library.phaze_bf16_adam_step
    function.restype = None
    function.argtypes = [ctypes.c_void_p] * 5 + [ctypes.c_int64] + [ctypes.c_float] * 8 + \
        [ctypes.c_uint32, ctypes.c_int]
    return library


def native_kernel_available() -> bool:
    """Whether the C kernel builds and loads here (the reason is logged when not)."""
    try:
        _native_library()
    except KernelBuildError as error:
        logger.info("bfloat16-moment Adam: no native kernel (%s)", error)
        return False
    return True


def _native_update(flat: list[Tensor], scalars: _StepScalars, seed: int) -> bool:
    """The C kernel's step on flat views; False (nothing done) unless the weights are float32
    on the CPU, as the kernel assumes."""
    param, grad = flat[0], flat[1]
    if param.device.type != "cpu" or param.dtype != torch.float32 or \
            grad.dtype != torch.float32:
        return False
    maximum = flat[4].data_ptr() if len(flat) > 4 else None
    _native_library().phaze_bf16_adam_step(
        param.data_ptr(), grad.data_ptr(), flat[2].data_ptr(), flat[3].data_ptr(), maximum,
        param.numel(), 1.0 - scalars.beta_1, scalars.beta_2, 1.0 - scalars.beta_2, scalars.eps,
        scalars.l2_decay, scalars.decoupled_factor, scalars.step_size,
        scalars.bias_correction2_sqrt, seed & 0xFFFFFFFF, torch.get_num_threads())
    return True


@functools.cache
def _compiled_adam_update() -> Callable[..., None]:
    # Made on first use: importing torch's compiler costs time and memory.
    return torch.compile(_adam_update_flat, dynamic=True)


def _compiled_update(flat: list[Tensor], scalars: _StepScalars, seed: int) -> bool:
    maximum = flat[4] if len(flat) > 4 else None
    _compiled_adam_update()(flat[0], flat[1], flat[2], flat[3], maximum, scalars.beta_1,
                            scalars.beta_2, scalars.eps, scalars.l2_decay,
                            scalars.decoupled_factor, scalars.step_size,
                            scalars.bias_correction2_sqrt, seed)
    return True


class BFloat16MomentAdam(GroupwiseOptimizer):
    """Adam (or, with `decoupled_weight_decay=True`, AdamW) with bfloat16 moments.

    Float moments found in the state (a checkpoint of torch's Adam, which load_state_dict casts
    to the parameter's dtype) are converted to bfloat16 on load and, as a safeguard, on use.

    `kernel` picks how a tensor is updated: "native" (the C kernel, float32 CPU weights),
    "compile" (torch.compile of the same loop), "eager" (torch ops), or "auto": native for CPU
    tensors and compile for the others. A fast kernel that fails (no C compiler, say) is
    dropped with one warning, for the next in line: native, then compile, then eager.
    """

    def __init__(self, params: Iterable[Any], lr: float = 1e-3,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False,
                 decoupled_weight_decay: bool = False, kernel: str = "eager") -> None:
        if lr < 0 or eps < 0 or weight_decay < 0 or not all(0 <= b < 1 for b in betas):
            raise ValueError(f"invalid Adam settings: lr={lr}, betas={betas}, eps={eps}, "
                             f"weight_decay={weight_decay}")
        if kernel not in KERNELS:
            raise ValueError(f"kernel {kernel!r}; allowed: {', '.join(KERNELS)}")
        defaults = {"lr": lr, "betas": tuple(betas), "eps": eps, "weight_decay": weight_decay,
                    "amsgrad": amsgrad, "decoupled_weight_decay": decoupled_weight_decay}
        super().__init__(params, defaults)
        self.kernel = kernel
        # Fast kernels still in use; one that fails is removed (eager is always left).
        self._fast_kernels: dict[str, Callable[..., bool]] = {
            "native": _native_update, "compile": _compiled_update}
        self.register_load_state_dict_post_hook(_moments_to_bfloat16)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        # Each tensor's number seeds its rounding noise. Kept here, not read from param_groups,
        # which the in-backward step swaps for one-tensor groups.
        index = self.__dict__.setdefault("_tensor_index", {})
        for param in self.param_groups[-1]["params"]:
            index.setdefault(param, len(index))

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        # A state saved by torch.optim.Adam has these; one saved by AdamW is decoupled.
        for group in self.param_groups:
            group.setdefault("amsgrad", False)
            group.setdefault("decoupled_weight_decay", False)

    def fast_kernels(self, device: torch.device) -> list[str]:
        """The kernels a tensor on `device` tries before the eager update, in order."""
        if self.kernel == "auto":
            wanted = ["native", "compile"] if device.type == "cpu" else ["compile"]
        else:
            wanted = [self.kernel]
        return [name for name in wanted if name in self._fast_kernels]

    def _step_group(self, group: dict[str, Any]) -> None:
        for param in group["params"]:
            if param.grad is None:
                continue
            dense_grad(param, "BFloat16MomentAdam")
            state = self._state_for(param, group["amsgrad"])
            state["step"] += 1.0
            self._update(param, state, group)

    def _update(self, param: Tensor, state: dict[str, Tensor], group: dict[str, Any]) -> None:
        step = state["step"].item()
        scalars = _StepScalars.of(group, step)
        seed = noise_seed(self._tensor_index[param], int(step))
        maximum = state.get("max_exp_avg_sq") if group["amsgrad"] else None
        tensors = [param, param.grad, state["exp_avg"], state["exp_avg_sq"]] + \
            ([maximum] if maximum is not None else [])
        kernels = self.fast_kernels(param.device)
        flat = _flat_views(tensors) if kernels else None
        if flat is not None:
            for name in kernels:
                try:
                    if self._fast_kernels[name](flat, scalars, seed):
                        return
                except Exception as error:  # noqa: BLE001 - any build or compiler failure
                    logger.warning("bfloat16-moment Adam: the %s kernel failed (%s: %s); using "
                                   "the next one", name, type(error).__name__,
                                   (str(error).splitlines() or [""])[0])
                    del self._fast_kernels[name]
        _adam_update_eager(param, param.grad, state["exp_avg"], state["exp_avg_sq"], maximum,
                           float(group["lr"]), *group["betas"], group["eps"],
                           group["weight_decay"], group["decoupled_weight_decay"], step, seed)

    def _state_for(self, param: Tensor, amsgrad: bool) -> dict[str, Tensor]:
        state = self.state[param]
        if not state:
            # torch keeps a non-fused Adam's step as a float32 CPU scalar; so do we.
            state["step"] = torch.tensor(0.0, dtype=torch.float32)
            state["exp_avg"] = _zero_moment(param)
            state["exp_avg_sq"] = _zero_moment(param)
        if amsgrad and "max_exp_avg_sq" not in state:
            state["max_exp_avg_sq"] = _zero_moment(param)
        _convert_moments(state, param)
        return state


def _flat_views(tensors: list[Tensor]) -> list[Tensor] | None:
    """1-D views of tensors that share one dense memory order (contiguous or channels-last),
    element i of each being the same element; None if they do not (the eager path then)."""
    first = tensors[0]
    order = sorted(range(first.ndim), key=first.stride, reverse=True)  # outermost dim first
    permuted = [t.permute(order) for t in tensors]
    if not all(t.is_contiguous() for t in permuted):
        return None
    return [t.view(-1) for t in permuted]


def _zero_moment(param: Tensor) -> Tensor:
    return torch.zeros_like(param, dtype=MOMENT_DTYPE, memory_format=torch.preserve_format)


def _convert_moments(state: dict[str, Tensor], param: Tensor | None = None) -> None:
    """Moments to bfloat16 (a one-off conversion: round to nearest is fine) and, given the
    parameter, to its memory layout (a checkpoint loads contiguous moments for channels-last
    weights), so the compiled update can run on flat views."""
    for key in MOMENT_KEYS:
        if key not in state:
            continue
        moment = state[key]
        if moment.dtype != MOMENT_DTYPE:
            moment = moment.to(MOMENT_DTYPE)
        if param is not None and moment.stride() != param.stride():
            moment = torch.empty_like(param, dtype=MOMENT_DTYPE).copy_(moment)
        state[key] = moment


def _moments_to_bfloat16(optimizer: Optimizer) -> None:
    """After load_state_dict (which casts float state to the parameter's float32) store the
    moments as bfloat16 again, so a resumed run does not hold float32 moments until its first
    step. A bfloat16 checkpoint comes back exactly: bfloat16 → float32 → bfloat16 is lossless."""
    for state in optimizer.state.values():
        _convert_moments(state)
