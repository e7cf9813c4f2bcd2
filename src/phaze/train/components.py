"""Training's parts as named Stateful components, saved and restored as one mapping.

`{"model", "optimizer", "scheduler", "clipper", "grad_scaler", "progress"}`: each has
`state_dict` / `load_state_dict`, and `phaze.storage.checkpoint` decides where each lands on
disk. The optimiser state is stored by parameter *name* (`optimizer_params`), so it still fits
when a later run freezes a different set of sub-models and the optimiser holds other
parameters. Also the guard that keeps a non-finite state from being saved.
(Not to be confused with activation checkpointing, `train/speed.use_activation_checkpointing`.)
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from phaze.storage.checkpoint import (Checkpoint, Stateful, TrainingState, restore_components,
                                      save_components)
from phaze.train.step import StepParts

logger = logging.getLogger(__name__)

OptimizerLoader = Callable[[dict[str, Any]], None]


class OptimizerByName:
    """The optimiser's state keyed by parameter name, so it survives a change of frozen parts.

    load: takes a full optimiser state dict (default: the optimiser's own `load_state_dict`;
    sharded optimisers scatter it, see Replicas.optimizer_loader)."""

    def __init__(self, model: nn.Module, optimizer: torch.optim.Optimizer,
                 load: OptimizerLoader | None = None) -> None:
        self.model, self.optimizer = model, optimizer
        self.load = load or optimizer.load_state_dict

    def _names(self) -> list[str]:
        names = {id(param): name for name, param in self.model.named_parameters()}
        return [names[id(p)] for group in self.optimizer.param_groups for p in group["params"]]

    def state_dict(self, full: dict[str, Any] | None = None) -> dict[str, Any]:
        """`full`: the gathered state of a sharded optimiser (Replicas.full_state)."""
        return {**(full or self.optimizer.state_dict()),
                "optimizer_name": type(self.optimizer).__name__,
                "optimizer_params": self._names()}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        if "state" not in saved or "optimizer_params" not in saved:
            logger.warning("no optimiser state in the checkpoint: the optimiser starts afresh")
            return
        if saved.get("optimizer_name") != type(self.optimizer).__name__:
            logger.warning("optimiser changed (%s → %s): its state starts afresh",
                        saved.get("optimizer_name"), type(self.optimizer).__name__)
            return
        current = self._names()
        saved_index = {name: index for index, name in enumerate(saved["optimizer_params"])}
        state = {index: saved["state"][saved_index[name]] for index, name in enumerate(current)
                 if name in saved_index and saved_index[name] in saved["state"]}
        if len(state) < len(current):
            logger.info("optimiser state restored for %d of %d trainable tensors (the rest start "
                     "afresh)", len(state), len(current))
        # The current param_groups carry this run's learning rate, betas and weight decay.
        self.load({"state": state, "param_groups": self.optimizer.state_dict()["param_groups"]})


class WarmupPosition:
    """The warm-up's step count; the factor is a function of it."""

    def __init__(self, parts: StepParts) -> None:
        self.parts = parts

    def state_dict(self) -> dict[str, Any]:
        return {"scheduler_steps": self.parts.scheduler.last_epoch}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        steps, scheduler = saved.get("scheduler_steps", 0), self.parts.scheduler
        scheduler.last_epoch = steps
        for group, base_lr, factor in zip(self.parts.optimizer.param_groups,
                                          scheduler.base_lrs, scheduler.lr_lambdas):
            group["lr"] = base_lr * factor(steps)


class ClipperHistory:
    """Autoclip's recorded gradient norms, as a JSON list (NaN slots not yet filled dropped)."""

    def __init__(self, parts: StepParts) -> None:
        self.clipper = parts.clipper

    def state_dict(self) -> dict[str, Any]:
        history = self.clipper.state_dict()["history"]
        return {"clipper_history": [v for v in history.tolist() if math.isfinite(v)]}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        if saved.get("clipper_history"):
            self.clipper.load_state_dict({"history": torch.tensor(saved["clipper_history"])})


class ScalerState:
    """The float16 loss scaler's scale and growth tracker (None when no scaler runs)."""

    def __init__(self, parts: StepParts) -> None:
        self.scaler = parts.scaler

    def state_dict(self) -> dict[str, Any]:
        return {"grad_scaler": self.scaler.state_dict() if self.scaler.is_enabled() else None}

    def load_state_dict(self, saved: dict[str, Any]) -> None:
        if saved.get("grad_scaler") and self.scaler.is_enabled():
            self.scaler.load_state_dict(saved["grad_scaler"])


def training_components(model: nn.Module, parts: StepParts, progress: TrainingState,
                        load_optimizer: OptimizerLoader | None = None) -> dict[str, Stateful]:
    """Everything a resume needs, by name (the data stream continues at `progress.iteration`)."""
    return {"model": model, "optimizer": OptimizerByName(model, parts.optimizer, load_optimizer),
            "scheduler": WarmupPosition(parts), "clipper": ClipperHistory(parts),
            "grad_scaler": ScalerState(parts), "progress": progress}


# --- saving and restoring ---------------------------------------------------------------------
def nonfinite_tensors(weights: dict[str, torch.Tensor],
                      optimizer_state: dict[str, Any]) -> list[str]:
    """Names of weights, buffers or optimiser state tensors holding NaN or ±inf."""
    tensors = dict(weights)
    for index, values in optimizer_state["state"].items():
        tensors.update({f"optimizer[{index}].{key}": value for key, value in values.items()
                        if isinstance(value, torch.Tensor)})
    tensors = {name: t for name, t in tensors.items() if t.is_floating_point() and t.numel()}
    if not tensors:
        return []
    # Runs only when saving, so a host transfer per tensor costs nothing that matters.
    flags = [torch.isfinite(t).all().cpu() for t in tensors.values()]
    return [name for name, ok in zip(tensors, torch.stack(flags).tolist()) if not ok]


def save_training_state(model_dir: Path, components: dict[str, Stateful],
                        full_state: tuple[dict, dict] | None = None) -> bool:
    """Save a checkpoint unless something is non-finite (then keep the last good one).

    full_state: the (weights, optimiser state) to write when the model's own are shards
    (Replicas.full_state); None reads them from the components.
    """
    gathered = {} if full_state is None else {
        "model": full_state[0], "optimizer": components["optimizer"].state_dict(full_state[1])}
    states = {name: gathered[name] if name in gathered else component.state_dict()
              for name, component in components.items()}
    bad = nonfinite_tensors(states["model"], states["optimizer"])
    if bad:
        logger.error("NOT saving iteration %d: %d tensor(s) are not finite (e.g. %s); the last "
                  "saved checkpoint is kept", states["progress"]["iteration"], len(bad), bad[0])
        return False
    save_components(model_dir, states)
    return True


def restore_training_state(checkpoint: Checkpoint, components: dict[str, Stateful]) -> None:
    """Put the saved state back into every component but the model (its weights were loaded
    when it was built) where it still fits."""
    restore_components(checkpoint, {name: component for name, component in components.items()
                                    if name != "model"})
