"""Gradient clipping: none, global norm, per-tensor norm, value, or autoclip (a percentile of the
recorded global norms)."""
from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import torch
from torch import Tensor

from phaze.registry import Registry

if TYPE_CHECKING:
    from phaze.train.optim.config import OptimizerConfig

# name → clip(clipper, params, grads, total_norm), in place
CLIPPING_METHODS: Registry[Callable[[GradientClipper, list[Tensor], list[Tensor], Tensor], None]] \
    = Registry("clipping method")
# Added to norms before dividing, as torch's own clipping does.
NORM_FLOOR = 1e-6


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
