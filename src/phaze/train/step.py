"""One optimisation step on a batch of both sides, and on-device loss bookkeeping.

Loss values stay on the device: they are summed there and read back only when the loop asks
(`LossMeter.read`), so a step never waits for the GPU except for the NaN check (see
NanProtection) and float16 loss scaling.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from phaze.data.batch import PairBatch, SideBatch
from phaze.sides import SIDES
from phaze.train.in_backward import OptimizerInBackward
from phaze.train.losses import FaceLoss, LossParts
from phaze.train.optim.clipping import GradientClipper
from phaze.train.precision import Precision
from phaze.train.distributed import Replicas, World, collectives_guard
from phaze.train.speed import (Speed, SpeedConfig, resolve_speed,
                               use_activation_checkpointing, use_channels_last,
                               sharing_weight_casts, use_small_convs_as_matmul)


class LossMeter:
    """Sums of each side's total and parts over the steps since the last read, on the device."""

    def __init__(self) -> None:
        self._sums: dict[str, torch.Tensor] = {}
        self._steps = 0

    def add(self, losses: dict[str, LossParts]) -> None:
        for side, parts in losses.items():
            self._add(side, parts.total)
            for name, value in parts.parts.items():
                self._add(f"{side}_{name}", value)
        self._steps += 1

    def _add(self, key: str, value: torch.Tensor) -> None:
        value = value.detach().float()
        self._sums[key] = self._sums[key] + value if key in self._sums else value

    def read(self) -> dict[str, float]:
        """Mean of every value since the last read (one host sync), then start again."""
        if not self._steps:
            return {}
        keys = list(self._sums)
        means = (torch.stack([self._sums[k] for k in keys]) / self._steps).tolist()
        self._sums, self._steps = {}, 0
        return dict(zip(keys, means))


@dataclass
class StepParts:
    """What a step needs besides the model; built once by the trainer."""

    loss: FaceLoss
    optimizer: Optimizer
    scheduler: LambdaLR                  # warm-up; its factor depends on the step count
    clipper: GradientClipper
    scaler: torch.amp.GradScaler
    precision: Precision
    check_finite: bool
    speed: Speed | None = None  # None: the model's device's defaults (train/speed.py)


class TrainStep:
    """Forward both sides, loss per side, backward, clip, optimiser and warm-up step.

    With `replicas` of several processes the forward runs through DDP, so each process's
    gradients are averaged with the others' during the (last) backward, and a non-finite loss
    on any process skips the step on all of them.
    """

    def __init__(self, model: nn.Module, parts: StepParts,
                 replicas: Replicas | None = None) -> None:
        self.model = model
        self.parts = parts
        self.replicas = replicas or Replicas(World(), _device_of(model))
        self.meter = LossMeter()
        self.trainable = [p for p in model.parameters() if p.requires_grad]
        if parts.speed is None:
            parts.speed = resolve_speed(SpeedConfig(), _device_of(model), parts.precision.dtype)
        if parts.speed.channels_last:
            use_channels_last(model, parts.optimizer)
        if parts.speed.activation_checkpointing:
            use_activation_checkpointing(model)
        matmul_convs = (use_small_convs_as_matmul(model)
                        if parts.speed.small_convs_as_matmul else [])
        # A recomputed block must save what the forward saved: it runs in backward, after the
        # shared casts are dropped, so with recomputation each forward casts its own.
        self._shared_casts = [] if parts.speed.activation_checkpointing else matmul_convs
        if parts.speed.cudnn_benchmark:
            torch.backends.cudnn.benchmark = True  # process-wide; input sizes never change
        self._sides = self.replicas.wrap(model)
        # Compiled lazily: the first step of each side pays the compilation.
        self._forward = torch.compile(self._sides) if parts.speed.compile else self._sides
        self._in_backward = (OptimizerInBackward(parts.optimizer, parts.clipper)
                             if parts.speed.optimizer_in_backward else None)

    def __call__(self, batch: PairBatch) -> bool:
        """Train on `batch`; False when the step was skipped because its loss was not finite."""
        if self._in_backward is not None:
            return self._step_in_backward(batch)
        p = self.parts
        p.optimizer.zero_grad(set_to_none=True)
        with collectives_guard(self.replicas):
            losses = self._backward(batch)
        total = losses["a"].total.detach() + losses["b"].total.detach()
        if p.check_finite and not self.replicas.all_true(torch.isfinite(total)):
            p.optimizer.zero_grad(set_to_none=True)  # learn nothing from this batch
            return False
        p.scaler.unscale_(p.optimizer)   # clip real gradients, not scaled ones
        p.clipper.clip(self.trainable)
        p.scaler.step(p.optimizer)
        p.scaler.update()
        p.scheduler.step()
        self.meter.add(losses)
        return True

    def _step_in_backward(self, batch: PairBatch) -> bool:
        """The same step with the optimiser inside one backward over both sides: the loss is
        checked before backward, since by its end the weights have already moved."""
        p = self.parts
        p.optimizer.zero_grad(set_to_none=True)
        losses = self._losses({side: batch[side] for side in SIDES})
        total = losses["a"].total + losses["b"].total
        if p.check_finite and not bool(torch.isfinite(total.detach())):
            return False
        if total.requires_grad:  # false when every trained path is frozen
            self._in_backward.arm()
            try:
                total.backward()
            finally:
                self._in_backward.disarm()
        p.scheduler.step()
        self.meter.add(losses)
        return True

    def close(self) -> None:
        """Drop the (DDP-wrapped) forward and the update hooks: the model and optimiser stay
        usable."""
        self._sides = self._forward = None
        if self._in_backward is not None:
            self._in_backward.close()
            self._in_backward = None

    def _backward(self, batch: PairBatch) -> dict[str, LossParts]:
        scaler = self.parts.scaler
        if not self.parts.speed.per_side_backward:
            losses = self._losses({side: batch[side] for side in SIDES})
            scaler.scale(losses["a"].total + losses["b"].total).backward()
            return losses
        # Gradients add up, so backward after each side keeps one side's activations alive at
        # a time instead of both: the same update in less memory. Across processes the first
        # side's gradients wait, and the last side's backward reduces them all at once.
        losses = {}
        for side in SIDES:
            last = side == SIDES[-1]
            with contextlib.nullcontext() if last else self.replicas.accumulating(self._sides):
                losses.update(self._losses({side: batch[side]}))
                if losses[side].total.requires_grad:  # false when the whole path is frozen
                    scaler.scale(losses[side].total).backward()
        return losses

    def _losses(self, batches: dict[str, SideBatch]) -> dict[str, LossParts]:
        inputs = {side: b.inputs for side, b in batches.items()}
        if self.parts.speed.channels_last:
            inputs = {side: x.contiguous(memory_format=torch.channels_last)
                      for side, x in inputs.items()}
        with self.parts.precision.autocast(), sharing_weight_casts(self._shared_casts):
            outputs = self._forward(inputs)  # {side: SideOutput}
        return {side: self.parts.loss.of_batch(out.face, batches[side], out.mask)
                for side, out in outputs.items()}


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters(), torch.empty(0)).device
