"""Shaping a face mask: grow or shrink it, cut its weak edges, blur it.

Training's loss weights (`phaze.data.loss_weights`), convert's compositing mask
(`phaze.convert.mask`) and the eye/mouth areas (`phaze.faces.masks`) all shape masks here.

Sign convention, the one used everywhere below: a positive number of pixels GROWS the mask
(dilation), a negative one SHRINKS it (erosion). Options that count the other way (convert's
`erosion_pct`: positive shrinks) turn the sign where they are read, not here.

Masks are float32 (S, S) in [0, 1]. Blur kernels are often given on a 128 px basis (as faceswap
gives them) and scaled to the face with `basis_px`, so a mask looks alike at every size.
"""
from __future__ import annotations

import cv2
import numpy as np

BASIS_PX = 128
SIDES = ("top", "bottom", "left", "right")


def basis_px(kernel: float, size_px: int) -> int:
    """A length given on the 128 px basis, in px of a face of `size_px`."""
    return int(round(kernel * size_px / BASIS_PX))


def odd_kernel(kernel_px: int) -> int:
    """`kernel_px`, or the next odd number when it is even (OpenCV kernels must be odd)."""
    return kernel_px if kernel_px % 2 else kernel_px + 1


def grow(mask: np.ndarray, pixels: int) -> np.ndarray:
    """The mask grown (pixels > 0) or shrunk (< 0) by |pixels| with an elliptical kernel."""
    if pixels == 0:
        return mask
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (abs(pixels) * 2 + 1,) * 2)
    return (cv2.dilate if pixels > 0 else cv2.erode)(mask, kernel)


def _shift(mask: np.ndarray, dy: int, dx: int) -> np.ndarray:
    """The mask moved by (dy, dx) pixels, zero where nothing moved in."""
    out = np.zeros_like(mask)
    height, width = mask.shape
    out[max(dy, 0):height + min(dy, 0), max(dx, 0):width + min(dx, 0)] = \
        mask[max(-dy, 0):height + min(-dy, 0), max(-dx, 0):width + min(-dx, 0)]
    return out


def grow_side(mask: np.ndarray, side: str, pixels: int) -> np.ndarray:
    """Move one side's edge outward (pixels > 0) or inward (< 0) by |pixels|.

    Shrinking the top edge keeps a pixel only where the pixel |pixels| rows above it is also in
    the mask, so every vertical run of the mask loses its top rows and nothing else.
    """
    if pixels == 0:
        return mask
    step = abs(pixels)
    # Direction from which the edge is pushed inward, as (dy, dx) of the shifted copy.
    inward = {"top": (step, 0), "bottom": (-step, 0), "left": (0, step), "right": (0, -step)}
    dy, dx = inward[side]
    if pixels < 0:
        return np.minimum(mask, _shift(mask, dy, dx))
    return np.maximum(mask, _shift(mask, -dy, -dx))


def threshold(mask: np.ndarray, threshold_pct: float) -> np.ndarray:
    """Weights below threshold_pct % become 0 and above 100 − threshold_pct % become 1."""
    if threshold_pct <= 0:
        return mask
    cut = threshold_pct / 100.0
    out = mask.copy()
    out[out < cut] = 0.0
    out[out > 1.0 - cut] = 1.0
    return out


def gaussian_blur(mask: np.ndarray, kernel_px: int) -> np.ndarray:
    """Gaussian blur with a `kernel_px` kernel (made odd); none at 1 px or less."""
    if kernel_px <= 1:
        return mask
    kernel_px = odd_kernel(kernel_px)
    return cv2.GaussianBlur(mask, (kernel_px, kernel_px), 0)


def box_blur(mask: np.ndarray, kernel_px: int, passes: int) -> np.ndarray:
    """Normalised box blur (kernel made odd, zero beyond the edge) applied `passes` times;
    none at 1 px or less."""
    size = odd_kernel(max(1, kernel_px))
    if passes == 0 or size == 1:
        return mask
    out = mask
    for _ in range(passes):
        out = cv2.blur(out, (size, size), borderType=cv2.BORDER_CONSTANT)
    return out
