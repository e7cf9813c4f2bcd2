"""What a training save holds beyond the weights, how a resume restores it, and the finite guard.

The optimiser state is stored by parameter *name* (TrainingState.extra["optimizer_params"]), so
it still fits when a later run freezes a different set of sub-models and the optimiser holds
other parameters. Scheduler, gradient clipper and loss scaler state live in `extra` as JSON.
"""
from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any, Callable

import torch
from torch import nn

from phaze.storage.checkpoint import Checkpoint, TrainingState, save_checkpoint
from phaze.train.step import StepParts

log = logging.getLogger(__name__)


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


def save_training_state(model_dir: Path, model: nn.Module, parts: StepParts,
                        state: TrainingState,
                        full_state: tuple[dict, dict] | None = None) -> bool:
    """Save a checkpoint unless something is non-finite (then keep the last good one).

    full_state: the (weights, optimiser state) to write when the model's own are shards
    (Replicas.full_state); None reads them from the model and optimiser.
    """
    weights, optimizer_state = full_state or (model.state_dict(), parts.optimizer.state_dict())
    bad = nonfinite_tensors(weights, optimizer_state)
    if bad:
        log.error("NOT saving iteration %d: %d tensor(s) are not finite (e.g. %s); the last "
                  "saved checkpoint is kept", state.iteration, len(bad), bad[0])
        return False
    state.extra = trainer_extra(model, parts)
    save_checkpoint(model_dir, weights, state, optimizer_state)
    return True


def trainer_extra(model: nn.Module, parts: StepParts) -> dict[str, Any]:
    names = {id(param): name for name, param in model.named_parameters()}
    order = [names[id(p)] for group in parts.optimizer.param_groups for p in group["params"]]
    history = parts.clipper.state_dict()["history"]
    return {
        "optimizer_name": type(parts.optimizer).__name__,
        "optimizer_params": order,
        "scheduler_steps": parts.scheduler.last_epoch,
        "clipper_history": [v for v in history.tolist() if math.isfinite(v)],
        "grad_scaler": parts.scaler.state_dict() if parts.scaler.is_enabled() else None,
    }


# --- restoring --------------------------------------------------------------------------------
OptimizerLoader = Callable[[dict[str, Any]], None]


def restore_training_state(checkpoint: Checkpoint, model: nn.Module, parts: StepParts,
                           load_optimizer: OptimizerLoader | None = None) -> None:
    """Put the saved optimiser, warm-up, clipper and scaler state back where they still fit.

    load_optimizer: takes a full optimiser state dict (default: the optimiser's own
    `load_state_dict`; sharded optimisers scatter it, see Replicas.optimizer_loader).
    """
    extra = checkpoint.state.extra
    _restore_optimizer(checkpoint.optimizer, extra, model, parts.optimizer,
                       load_optimizer or parts.optimizer.load_state_dict)
    _restore_scheduler(extra.get("scheduler_steps", 0), parts)
    if extra.get("clipper_history"):
        parts.clipper.load_state_dict({"history": torch.tensor(extra["clipper_history"])})
    if extra.get("grad_scaler") and parts.scaler.is_enabled():
        parts.scaler.load_state_dict(extra["grad_scaler"])


def _restore_optimizer(saved: dict[str, Any] | None, extra: dict[str, Any], model: nn.Module,
                       optimizer: torch.optim.Optimizer, load: OptimizerLoader) -> None:
    if saved is None or "optimizer_params" not in extra:
        log.warning("no optimiser state in the checkpoint: the optimiser starts afresh")
        return
    if extra.get("optimizer_name") != type(optimizer).__name__:
        log.warning("optimiser changed (%s → %s): its state starts afresh",
                    extra.get("optimizer_name"), type(optimizer).__name__)
        return
    names = {id(param): name for name, param in model.named_parameters()}
    current = [names[id(p)] for group in optimizer.param_groups for p in group["params"]]
    saved_index = {name: index for index, name in enumerate(extra["optimizer_params"])}
    state = {index: saved["state"][saved_index[name]] for index, name in enumerate(current)
             if name in saved_index and saved_index[name] in saved["state"]}
    if len(state) < len(current):
        log.info("optimiser state restored for %d of %d trainable tensors (the rest start "
                 "afresh)", len(state), len(current))
    # The current param_groups carry this run's learning rate, betas and weight decay.
    load({"state": state, "param_groups": optimizer.state_dict()["param_groups"]})


def _restore_scheduler(steps: int, parts: StepParts) -> None:
    """Continue the warm-up where it stopped: the factor is a function of the step count."""
    scheduler = parts.scheduler
    scheduler.last_epoch = steps
    for group, base_lr, factor in zip(parts.optimizer.param_groups, scheduler.base_lrs,
                                      scheduler.lr_lambdas):
        group["lr"] = base_lr * factor(steps)
