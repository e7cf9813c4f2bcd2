"""Optimisers written here (AdaBelief, Lion) on a base whose update is written once per group."""
from __future__ import annotations

import math

from collections.abc import Callable, Iterable
from typing import Any

import torch
from torch import Tensor
from torch.optim import Optimizer


class GroupwiseOptimizer(Optimizer):
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


def dense_grad(param: Tensor, optimizer_name: str) -> Tensor:
    if param.grad.is_sparse:
        raise RuntimeError(f"{optimizer_name} does not support sparse gradients")
    return param.grad


class AdaBelief(GroupwiseOptimizer):
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
        grads = [dense_grad(p, "AdaBelief") for p in params]
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


class Lion(GroupwiseOptimizer):
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
        grads = [dense_grad(p, "Lion") for p in params]
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
