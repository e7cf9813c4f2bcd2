"""The segmenter's training loop: synthetic occlusion batches, BCE + soft Dice, Adam, one save.

Continues from the folder's weights when it holds a model of the same shape, so "retrain the
segmenter" after a few edits is a short top-up, not a start from scratch.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from phaze.errors import ConfigError
from phaze.masks.dataset import MaskFace, make_batch
from phaze.masks.network import Segmenter, SegmenterConfig
from phaze.masks.occluders import OccluderConfig
from phaze.masks.storage import (MaskModelInfo, is_mask_model, load_mask_model,
                                 save_mask_model)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MaskTrainConfig:
    steps: int = 800
    batch_size: int = 16
    learning_rate: float = 3e-3
    hand_weight: float = 4.0     # a drawn mask counts this many times a synthetic target
    seed: int = 0
    save_every: int = 100        # steps between saves, so a stopped run keeps its progress
    occluders: OccluderConfig = field(default_factory=OccluderConfig)

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch_size < 1:
            raise ConfigError(f"mask training steps {self.steps} / batch size "
                              f"{self.batch_size} are invalid: expected >= 1")
        if self.save_every < 1:
            raise ConfigError(f"mask training save_every {self.save_every} is invalid: "
                              "expected >= 1")
        if not 0 < self.learning_rate < 1 or self.hand_weight < 1:
            raise ConfigError(f"mask training learning rate {self.learning_rate} / hand weight "
                              f"{self.hand_weight} are invalid: expected (0, 1) and >= 1")


@dataclass(frozen=True)
class StepReport:
    step: int
    steps: int
    loss: float
    faces_per_sec: float


def segmentation_loss(logits: torch.Tensor, targets: torch.Tensor,
                      weights: torch.Tensor) -> torch.Tensor:
    """Per-sample weighted BCE + soft Dice; logits/targets (N, 1, S, S), weights (N,)."""
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean((1, 2, 3))
    probs = torch.sigmoid(logits)
    overlap = (probs * targets).sum((1, 2, 3))
    dice = 1 - (2 * overlap + 1) / (probs.sum((1, 2, 3)) + targets.sum((1, 2, 3)) + 1)
    return ((bce + dice) * weights).sum() / weights.sum()


def _start_model(model_dir: Path, network: SegmenterConfig) -> tuple[Segmenter, int]:
    if is_mask_model(model_dir):
        model, info = load_mask_model(model_dir)
        if info.network == network:
            logger.info("mask model %s: continuing from step %d", model_dir, info.trained_steps)
            return model.train(), info.trained_steps
        logger.info("mask model %s has another shape: training a new one", model_dir)
    return Segmenter(network).train(), 0


def train_segmenter(faces: Sequence[MaskFace], model_dir: str | Path,
                    network: SegmenterConfig = SegmenterConfig(),
                    config: MaskTrainConfig = MaskTrainConfig(),
                    on_step: Callable[[StepReport], None] | None = None) -> MaskModelInfo:
    """Train (or continue) the segmenter in `model_dir` on `faces`; saved every `save_every`
    steps and at the end."""
    if not faces:
        raise ConfigError("mask training needs at least one face")
    model_dir = Path(model_dir)
    torch.manual_seed(config.seed)
    rng = np.random.default_rng(config.seed)
    model, done = _start_model(model_dir, network)
    optimizer = torch.optim.AdamW(model.parameters(), lr=config.learning_rate, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimizer, config.learning_rate,
                                                   total_steps=config.steps, pct_start=0.15)
    textures = [face.image for face in faces]  # other faces are the commonest real occluders
    start = time.perf_counter()
    for step in range(1, config.steps + 1):
        indices = rng.integers(0, len(faces), config.batch_size)
        images, targets, weights = make_batch(faces, indices, rng, config.occluders, textures,
                                              config.hand_weight)
        batch = torch.from_numpy(images).permute(0, 3, 1, 2).float().div_(255.0)  # (N,3,S,S)
        loss = segmentation_loss(model(batch), torch.from_numpy(targets)[:, None],
                                 torch.from_numpy(weights))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        schedule.step()
        if on_step is not None:
            rate = step * config.batch_size / max(time.perf_counter() - start, 1e-9)
            on_step(StepReport(step, config.steps, loss.detach().item(), rate))
        if step % config.save_every == 0 and step < config.steps:
            save_mask_model(model_dir, model.eval(), MaskModelInfo(network, done + step,
                                                                  len(faces)))
            model.train()
    info = MaskModelInfo(network, done + config.steps, len(faces))
    save_mask_model(model_dir, model.eval(), info)
    return info
