"""Colour adjustment of a swapped face toward the original face under the mask.

Every method takes float32 RGB faces in [0, 1] of shape (S, S, 3) and a float32 mask (S, S) in
[0, 1], and returns the adjusted swap with the same shape, clipped to [0, 1].
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from phaze.convert import COLOUR_METHODS

ColourMethod = Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]
# Pixels with a mask weight above this count as "under the mask" for statistics.
MASK_CUTOFF = 0.5


def _under(mask: np.ndarray) -> np.ndarray:
    """Boolean selection of the masked pixels; the whole face when the mask is empty."""
    selected = mask > MASK_CUTOFF
    return selected if selected.any() else np.ones_like(selected)


def adjust_none(swap: np.ndarray, original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    return swap


def adjust_avg_color(swap: np.ndarray, original: np.ndarray, mask: np.ndarray,
                     passes: int = 2) -> np.ndarray:
    """Shift the swap's mean colour under the mask onto the original's.

    A second pass makes up for what clipping to [0, 1] took away in the first.
    """
    selected = _under(mask)
    target = original[selected].mean(axis=0)
    adjusted = swap.astype(np.float32)
    for _ in range(passes):
        adjusted = np.clip(adjusted + (target - adjusted[selected].mean(axis=0)), 0.0, 1.0)
    return adjusted


def adjust_reinhard(swap: np.ndarray, original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Reinhard colour transfer: match mean and std of each L*a*b* channel under the mask."""
    selected = _under(mask)
    swap_lab = cv2.cvtColor(swap.astype(np.float32), cv2.COLOR_RGB2LAB)
    original_lab = cv2.cvtColor(original.astype(np.float32), cv2.COLOR_RGB2LAB)
    source, target = swap_lab[selected], original_lab[selected]
    scale = target.std(axis=0) / np.maximum(source.std(axis=0), 1e-6)
    matched = (swap_lab - source.mean(axis=0)) * scale + target.mean(axis=0)
    matched[..., 0] = np.clip(matched[..., 0], 0.0, 100.0)
    return np.clip(cv2.cvtColor(matched.astype(np.float32), cv2.COLOR_LAB2RGB), 0.0, 1.0)


def adjust_hist_match(swap: np.ndarray, original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Per-channel histogram matching (256 levels) of the masked swap onto the masked original."""
    selected = _under(mask)
    swap_levels = np.clip(np.round(swap * 255.0), 0, 255).astype(np.int64)
    original_levels = np.clip(np.round(original * 255.0), 0, 255).astype(np.int64)
    out = np.empty_like(swap, dtype=np.float32)
    for channel in range(3):
        source_cdf = _cdf(swap_levels[..., channel][selected])
        target_cdf = _cdf(original_levels[..., channel][selected])
        # For each source level, the first target level whose CDF reaches the source's.
        lookup = np.searchsorted(target_cdf, source_cdf, side="left").clip(0, 255)
        out[..., channel] = lookup[swap_levels[..., channel]] / 255.0
    return out


def _cdf(levels: np.ndarray) -> np.ndarray:
    counts = np.bincount(levels, minlength=256).astype(np.float64)
    return np.cumsum(counts) / max(counts.sum(), 1.0)


def adjust_seamless(swap: np.ndarray, original: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Poisson blending (cv2.seamlessClone): the swap's gradients, the original's boundary."""
    binary = (mask > MASK_CUTOFF).astype(np.uint8) * 255
    # seamlessClone needs the region away from the image border; keep one pixel free.
    binary[0, :] = binary[-1, :] = 0
    binary[:, 0] = binary[:, -1] = 0
    if not binary.any():
        return swap
    ys, xs = np.nonzero(binary)
    # The centre of the bounding box keeps the clone exactly where it was cut from.
    centre = (int((xs.min() + xs.max() + 1) // 2), int((ys.min() + ys.max() + 1) // 2))
    to_u8 = lambda image: np.clip(np.round(image * 255.0), 0, 255).astype(np.uint8)  # noqa: E731
    cloned = cv2.seamlessClone(to_u8(swap), to_u8(original), binary, centre, cv2.NORMAL_CLONE)
    return cloned.astype(np.float32) / 255.0


_ADJUSTERS: dict[str, ColourMethod] = {
    "avg-color": adjust_avg_color,
    "reinhard": adjust_reinhard,
    "hist-match": adjust_hist_match,
    "seamless": adjust_seamless,
    "none": adjust_none,
}


def get_colour_method(name: str) -> ColourMethod:
    return _ADJUSTERS[COLOUR_METHODS.check(name)]
