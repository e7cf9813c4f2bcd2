"""Per-pixel loss weights of one training face: its face mask plus the eye and mouth areas.

faceswap's default training loss is `mean(loss × face_mask + loss × eye_mask × 3 + loss ×
mouth_mask × 2)`. This module builds the weight map of that sum for one face, in
numpy, so the data pipeline can ship it with the batch; the trainer only multiplies and averages
(`phaze.train.weighted_loss.weighted_mean`).
"""
from __future__ import annotations


import cv2
import numpy as np

from phaze.data.settings import MaskWeighting

BLUR_BASIS_PX = 128  # faceswap gives the mask blur kernel for a 128 px face; it scales with size
def prepare_face_mask(mask: np.ndarray, config: MaskWeighting) -> np.ndarray:
    """A (H, W) mask (uint8 0..255 or float 0..1) → float32 in [0, 1]: dilate, threshold, blur."""
    soft = _as_unit_float(mask)
    size = soft.shape[0]
    soft = _dilate(soft, round(size * config.dilation / 100.0))
    if config.threshold > 0:
        low = config.threshold / 100.0
        soft = np.where(soft < low, 0.0, np.where(soft > 1.0 - low, 1.0, soft)).astype(np.float32)
    if config.blur_kernel > 0:
        soft = _gaussian(soft, round(config.blur_kernel * size / BLUR_BASIS_PX))
    return soft


def loss_weight_map(face_mask: np.ndarray | None, eye_mask: np.ndarray | None,
                    mouth_mask: np.ndarray | None, config: MaskWeighting,
                    penalized: bool = True, size: int | None = None) -> np.ndarray:
    """(H, W) float32 weights w so that the spatial loss is mean(loss × w).

    w = face_mask (or 1 without `penalized` mask loss or without a mask) + eye_mask × eye
    multiplier + mouth_mask × mouth multiplier, where the face mask is the *prepared* one
    (`prepare_face_mask`) and the areas are `phaze.faces.masks.eye_mask`/`mouth_mask` (already
    dilated and blurred). As in faceswap, a multiplier of 1 adds no term: so with multipliers 1
    an error only inside the mouth scores 1 × loss, with 2 it scores 3 ×.
    """
    shapes = {m.shape for m in (face_mask, eye_mask, mouth_mask) if m is not None}
    if size is not None:
        shapes.add((size, size))
    if len(shapes) != 1:
        raise ValueError(f"masks must share one (H, W) shape, got {sorted(shapes)}")
    (shape,) = shapes
    use_face = face_mask is not None and penalized
    weights = face_mask.astype(np.float32).copy() if use_face else np.ones(shape, np.float32)
    for area, multiplier in ((eye_mask, config.eye_multiplier),
                             (mouth_mask, config.mouth_multiplier)):
        if area is not None and multiplier > 1.0:
            weights += np.float32(multiplier) * area.astype(np.float32)
    return weights


def _as_unit_float(mask: np.ndarray) -> np.ndarray:
    if mask.ndim != 2 or mask.shape[0] != mask.shape[1]:
        raise ValueError(f"mask must be a square (H, W) array, got shape {mask.shape}")
    if mask.dtype == np.uint8:
        return mask.astype(np.float32) / np.float32(255.0)
    return np.clip(mask.astype(np.float32), 0.0, 1.0)


def _dilate(mask: np.ndarray, pixels: int) -> np.ndarray:
    """Grow (pixels > 0) or shrink (< 0) a mask with an elliptical kernel."""
    if pixels == 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (abs(pixels) * 2 + 1,) * 2)
    return (cv2.dilate if pixels > 0 else cv2.erode)(mask, kernel)


def _gaussian(mask: np.ndarray, kernel_px: int) -> np.ndarray:
    if kernel_px <= 1:
        return mask
    kernel_px += 1 - kernel_px % 2  # cv2 needs an odd kernel
    return cv2.GaussianBlur(mask, (kernel_px, kernel_px), 0)
