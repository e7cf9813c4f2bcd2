"""The optimiser step inside backward: each weight is updated the moment its gradient is
complete, and the gradient is freed at once.

A normal step holds every gradient until backward ends (82 M parameters × 4 bytes = 0.31 GiB
for `original`); here only the gradients still being summed are alive. The update is the same
one the optimiser makes after backward, computed tensor by tensor. What needs all gradients at
once cannot run this way: a global gradient norm (clipping `global_norm`, `autoclip`), float16
loss scaling (its overflow check spans every gradient), and gradients averaged across processes.
"""
from __future__ import annotations

import torch
from torch import Tensor
from torch.optim import Optimizer

from phaze.train.optim.clipping import GradientClipper
from phaze.train.optim.config import OptimizerConfig

# Clipping modes that read every gradient together.
GLOBAL_CLIPPING = ("global_norm", "autoclip")


def in_backward_blocker(optimizer: OptimizerConfig, needs_scaler: bool,
                        processes: int) -> str | None:
    """Why these settings cannot step inside backward, as a phrase; None when they can."""
    if optimizer.clipping in GLOBAL_CLIPPING:
        return (f"optimizer clipping {optimizer.clipping!r} needs every gradient at once "
                "(allowed with clipping: none, norm, value)")
    if needs_scaler:
        return "fp16 loss scaling checks every gradient at once (use bf16 or off)"
    if processes > 1:
        return f"gradients are averaged across the {processes} processes after backward"
    return None


class OptimizerInBackward:
    """Hooks that step `optimizer` on each parameter as its gradient finishes accumulating.

    The hooks act only between `arm()` and the end of the next backward (`disarm()`), so other
    backward passes (a preview's score, a test's gradient check) leave the weights alone. The
    optimiser keeps its state, groups and checkpoint layout; the learning-rate schedule keeps
    working because each update reads the group's current settings.
    """

    def __init__(self, optimizer: Optimizer, clipper: GradientClipper) -> None:
        self.optimizer = optimizer
        self.clipper = clipper
        # Group index, not the group: load_state_dict replaces the group dicts.
        self._group_of = {param: index for index, group in enumerate(optimizer.param_groups)
                          for param in group["params"]}
        self._handles = [param.register_post_accumulate_grad_hook(self._step)
                         for param in self._group_of]
        self._armed = False
        self.stepped = 0   # parameters updated since the last arm()

    def arm(self) -> None:
        self._armed, self.stepped = True, 0

    def disarm(self) -> None:
        self._armed = False

    def close(self) -> None:
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def _step(self, param: Tensor) -> None:
        if not self._armed:
            return
        if self.clipper.mode != "none":   # norm and value act on one tensor on its own
            self.clipper.clip([param])
        groups = self.optimizer.param_groups
        # torch's optimisers step every parameter of param_groups that has a gradient: show
        # them one group holding this parameter alone, with the group's current settings.
        self.optimizer.param_groups = [{**groups[self._group_of[param]], "params": [param]}]
        try:
            with torch.no_grad():
                self.optimizer.step()
        finally:
            self.optimizer.param_groups = groups
        param.grad = None
        self.stepped += 1
