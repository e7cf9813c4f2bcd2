"""Convert-time mask processing: blur, threshold, per-side erosion and the box blend.

Masks are float32 (S, S) in [0, 1] in the aligned face's space. Kernel sizes are given on a
128 px basis and scaled to the face size, so a mask looks the same at every model size. The
shaping itself is `phaze.faces.mask_shaping`'s (positive grows); the erosion options here count
shrinking as positive, as users know them, and turn the sign where they are read.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from phaze.errors import ConfigError
from phaze.faces.mask_shaping import (BASIS_PX, SIDES, basis_px, box_blur, grow_side,
                                      odd_kernel, threshold)

__all__ = ["BASIS_PX", "SIDES", "MaskOptions", "blur", "box_blend", "erode", "erode_side",
           "keep_visible", "process_mask", "scaled_kernel", "threshold"]
OCCLUSION_EDGE_PX = 3  # the soft edge beside an occluder, on the 128 px basis


@dataclass(frozen=True)
class MaskOptions:
    """How the face mask is shaped before compositing.

    erosion_pct shrinks (positive) or grows (negative) the mask on every side by a percentage
    of the face size; erosion_<side>_pct does so on one side only, on top of erosion_pct.
    threshold_pct: weights below it become 0, above 100 - it become 1.
    """

    blur_kernel: int = 3
    blur_passes: int = 4
    threshold_pct: float = 4.0
    erosion_pct: float = 0.0
    erosion_top_pct: float = 0.0
    erosion_bottom_pct: float = 0.0
    erosion_left_pct: float = 0.0
    erosion_right_pct: float = 0.0
    box_blend: bool = True

    def __post_init__(self) -> None:
        if self.blur_kernel < 0 or self.blur_passes < 0:
            raise ConfigError(f"mask blur kernel {self.blur_kernel} / passes {self.blur_passes}"
                              " is invalid: expected integers >= 0")
        if not 0.0 <= self.threshold_pct < 50.0:
            raise ConfigError(f"mask threshold {self.threshold_pct} % is invalid: "
                              "expected 0 <= threshold < 50")
        for name in ("erosion_pct",) + tuple(f"erosion_{s}_pct" for s in SIDES):
            value = getattr(self, name)
            if not -100.0 < value < 100.0:
                raise ConfigError(f"mask {name.replace('_pct', '')} {value} % is invalid: "
                                  "expected -100 < erosion < 100")


def scaled_kernel(kernel: int, size_px: int) -> int:
    """A kernel given on the 128 px basis at `size_px`, odd and at least 1."""
    return odd_kernel(max(1, basis_px(kernel, size_px)))


def blur(mask: np.ndarray, kernel: int, passes: int) -> np.ndarray:
    """Normalised box blur applied `passes` times (kernel on the 128 px basis)."""
    return box_blur(mask, basis_px(kernel, mask.shape[0]), passes)


def erode_side(mask: np.ndarray, side: str, pixels: int) -> np.ndarray:
    """Move one side's edge inward (pixels > 0) or outward (< 0) by |pixels|.

    The erosion options count shrinking as positive; `grow_side` (one sign convention for all
    mask shaping) counts growing as positive, so the sign turns here.
    """
    return grow_side(mask, side, -pixels)


def erode(mask: np.ndarray, options: MaskOptions) -> np.ndarray:
    size = mask.shape[0]
    out = mask
    for side in SIDES:
        percent = options.erosion_pct + getattr(options, f"erosion_{side}_pct")
        out = erode_side(out, side, int(round(size * percent / 100.0)))
    return out


def box_blend(size_px: int) -> np.ndarray:
    """A (S, S) weight: a border of size//32 + 1 px zeroed, then Gaussian-blurred.

    It fades every face out before the crop's edge, so no seam of the square crop can show.
    The outermost pixel ring is forced back to 0: blurring would otherwise leak into it.
    """
    border = size_px // 32 + 1
    box = np.zeros((size_px, size_px), np.float32)
    box[border:size_px - border, border:size_px - border] = 1.0
    kernel = 2 * border + 1
    box = cv2.GaussianBlur(box, (kernel, kernel), 0, borderType=cv2.BORDER_CONSTANT)
    box[0, :] = box[-1, :] = box[:, 0] = box[:, -1] = 0.0
    return box


def keep_visible(mask: np.ndarray, occlusion: np.ndarray,
                 edge_px: int = OCCLUSION_EDGE_PX) -> np.ndarray:
    """`mask` (S, S) × a weight that is 0 on every pixel the segmenter's `occlusion` (S, S)
    calls occluded (< 0.5) and rises to 1 over about `edge_px` (128 px basis) on the face side.

    The visible region is eroded by the edge before it is feathered, so the feather's support
    ends at the occluder's edge: the blur that softens the face's outline cannot spread the
    swap over a hand or a microphone in front of it.
    """
    radius = max(1, int(round(edge_px * mask.shape[0] / BASIS_PX)))
    visible = (occlusion >= 0.5).astype(np.float32)
    disc = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * radius + 1, 2 * radius + 1))
    feather = cv2.erode(visible, disc)
    half = radius // 2  # two box passes of 2·half+1 reach 2·half <= radius px outward
    for _ in range(2 if half else 0):
        feather = cv2.blur(feather, (2 * half + 1, 2 * half + 1),
                           borderType=cv2.BORDER_CONSTANT)
    return (mask * feather).astype(np.float32)


def process_mask(mask: np.ndarray, options: MaskOptions) -> np.ndarray:
    """Raw mask (S, S) float [0, 1] → the mask used for compositing."""
    out = erode(mask.astype(np.float32), options)
    out = blur(out, options.blur_kernel, options.blur_passes)
    out = threshold(out, options.threshold_pct)
    if options.box_blend:
        out = out * box_blend(out.shape[0])
    return np.clip(out, 0.0, 1.0).astype(np.float32)
