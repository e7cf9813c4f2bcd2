"""How well a segmenter finds the visible face: IoU against a known visible region.

The region is the landmark hull (or a drawn mask) minus an occluder pasted on it, so the truth
is exact; `HELD_OUT_KINDS` with photos unseen in training measure generalisation.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from phaze.masks.dataset import MaskFace, make_batch
from phaze.masks.occluders import HELD_OUT_KINDS, OccluderConfig
from phaze.masks.predict import MaskPredictor


@dataclass(frozen=True)
class IoUReport:
    mean_iou: float       # mean over faces of |pred ∩ truth| / |pred ∪ truth|
    faces: int
    mean_coverage: float  # mean share of the face the occluders covered


def iou(prediction: np.ndarray, truth: np.ndarray) -> float:
    """IoU of two masks thresholded at 0.5 (1.0 when both are empty)."""
    pred, true = prediction > 0.5, truth > 0.5
    union = np.logical_or(pred, true).sum()
    return 1.0 if union == 0 else float(np.logical_and(pred, true).sum() / union)


def evaluate_held_out(predictor: MaskPredictor, faces: Sequence[MaskFace],
                      textures: Sequence[np.ndarray], seed: int = 1234,
                      kinds: tuple[str, ...] = HELD_OUT_KINDS) -> IoUReport:
    """IoU on `faces`, each with one occluder of `kinds` filled from `textures`."""
    rng = np.random.default_rng(seed)
    occluders = OccluderConfig(kinds=kinds, probability=1.0)
    scores, coverage = [], []
    for first in range(0, len(faces), 32):
        indices = range(first, min(first + 32, len(faces)))
        images, truths, _ = make_batch(faces, indices, rng, occluders, textures, 1.0,
                                       augment=False)
        for index, image, truth, pred in zip(indices, images, truths,
                                             predictor.predict(list(images))):
            scores.append(iou(pred, truth))
            face = faces[index].target > 0.5
            coverage.append(1.0 - float((truth > 0.5).sum()) / max(float(face.sum()), 1.0))
    return IoUReport(float(np.mean(scores)), len(scores), float(np.mean(coverage)))
