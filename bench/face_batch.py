"""A benchmark batch shaped like the trainer's: landmark face masks and eye/mouth loss weights.

Random pixels cost the step the same as real faces, but the masks and the loss-weight map
decide how much work the loss does, so they are built the way the data pipeline builds them:
68 plausible landmarks per face (faceswap's mean face plus a jaw arc, jittered per example),
the extended landmark mask, and `loss_weight_map` with faceswap's eye ×3 and mouth ×2.
"""
from __future__ import annotations

import numpy as np
import torch

from phaze.data.batch import SideBatch
from phaze.data.settings import MaskWeighting
from phaze.data.loss_weights import loss_weight_map, prepare_face_mask
from phaze.faces.constants import alignment_constants
from phaze.faces.masks import extended_mask, eye_mask, mouth_mask
from phaze.sides import SIDES

# The mean face fills this share of the crop, centred (a face-centred training crop).
FACE_SHARE = 0.7
JITTER_SHARE = 0.02  # landmark noise, as a share of the side


def plausible_landmarks(size_px: int, rng: np.random.Generator) -> np.ndarray:
    """(68, 2) landmarks in px of a size_px face: mean face 17..67 plus a U-shaped jaw 0..16."""
    inner = alignment_constants().mean_face_51.astype(np.float64)  # unit square
    angles = np.linspace(np.pi, 0.0, 17)  # right ear, chin, left ear
    jaw = np.stack([0.5 + 0.5 * np.cos(angles), 0.35 + 0.65 * np.sin(angles)], axis=1)
    unit = np.vstack([jaw, inner])
    margin = (1.0 - FACE_SHARE) / 2
    points = (margin + FACE_SHARE * unit) * size_px
    return points + rng.normal(0.0, JITTER_SHARE * size_px, points.shape)


def face_masks(size_px: int, rng: np.random.Generator,
               weighting: MaskWeighting = MaskWeighting()) -> tuple[np.ndarray, np.ndarray]:
    """(face mask, loss-weight map) of one face, each (size_px, size_px) float32."""
    landmarks = plausible_landmarks(size_px, rng)
    face = prepare_face_mask(extended_mask(landmarks, size_px), weighting)
    eyes, mouth = eye_mask(landmarks, size_px), mouth_mask(landmarks, size_px)  # dilated, blurred
    return face, loss_weight_map(face, eyes, mouth, weighting)


def face_batch(batch_size: int, input_size: int, output_size: int, device: torch.device,
               seed: int) -> dict[str, SideBatch]:
    """Both sides: random images in [0, 1], landmark masks and eye/mouth loss weights."""
    generator = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)

    def side() -> SideBatch:
        inputs = torch.rand(batch_size, 3, input_size, input_size, generator=generator)
        targets = torch.rand(batch_size, 3, output_size, output_size, generator=generator)
        pairs = [face_masks(output_size, rng) for _ in range(batch_size)]
        masks = torch.from_numpy(np.stack([face for face, _ in pairs]))[:, None]
        weights = torch.from_numpy(np.stack([w for _, w in pairs]))[:, None]
        return SideBatch(inputs, targets, masks, weights).to(device)

    return {name: side() for name in SIDES}
