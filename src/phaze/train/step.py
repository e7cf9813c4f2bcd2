"""One optimisation step on a batch of both sides, and on-device loss bookkeeping.

Loss values stay on the device: they are summed there and read back only when the loop asks
(`LossMeter.read`), so a step never waits for the GPU except for the NaN check (see
NanProtection) and float16 loss scaling.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

from phaze.data.batch import PairBatch, SideBatch
from phaze.sides import SIDES
from phaze.train.losses import FaceLoss, LossParts
from phaze.train.optim import GradientClipper
from phaze.train.precision import Precision
from phaze.train.speed import Speed, SpeedConfig, resolve_speed, use_channels_last



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
    """Forward both sides, loss per side, backward, clip, optimiser and warm-up step."""

    def __init__(self, model: nn.Module, parts: StepParts) -> None:
        self.model = model
        self.parts = parts
        self.meter = LossMeter()
        self.trainable = [p for p in model.parameters() if p.requires_grad]
        if parts.speed is None:
            parts.speed = resolve_speed(SpeedConfig(), _device_of(model))
        if parts.speed.channels_last:
            use_channels_last(model, parts.optimizer)
        if parts.speed.cudnn_benchmark:
            torch.backends.cudnn.benchmark = True  # process-wide; input sizes never change
        # Compiled lazily: the first step of each side pays the compilation.
        self._side_forward = (torch.compile(model.side_forward) if parts.speed.compile
                              else model.side_forward)

    def __call__(self, batch: PairBatch) -> bool:
        """Train on `batch`; False when the step was skipped because its loss was not finite."""
        p = self.parts
        p.optimizer.zero_grad(set_to_none=True)
        if p.speed.per_side_backward:
            # Gradients add up, so backward after each side keeps one side's activations
            # alive at a time instead of both: the same update in less memory.
            losses = {}
            for side in SIDES:
                losses[side] = self._side_loss(batch[side], side)
                if losses[side].total.requires_grad:  # false when the whole path is frozen
                    p.scaler.scale(losses[side].total).backward()
            total = losses["a"].total.detach() + losses["b"].total.detach()
        else:
            losses = {side: self._side_loss(batch[side], side) for side in SIDES}
            total = losses["a"].total + losses["b"].total
            p.scaler.scale(total).backward()
        if p.check_finite and not bool(torch.isfinite(total)):
            p.optimizer.zero_grad(set_to_none=True)  # learn nothing from this batch
            return False
        p.scaler.unscale_(p.optimizer)   # clip real gradients, not scaled ones
        p.clipper.clip(self.trainable)
        p.scaler.step(p.optimizer)
        p.scaler.update()
        p.scheduler.step()
        self.meter.add(losses)
        return True

    def _side_loss(self, batch: SideBatch, side: str) -> LossParts:
        inputs = batch.inputs
        if self.parts.speed.channels_last:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        with self.parts.precision.autocast():
            outputs = self._side_forward(inputs, side)  # [face(, mask)]
        predicted_mask = outputs[1] if len(outputs) > 1 else None
        return self.parts.loss.of_batch(outputs[0], batch, predicted_mask)


def _device_of(model: nn.Module) -> torch.device:
    return next(model.parameters(), torch.empty(0)).device
