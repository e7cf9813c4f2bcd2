"""Helpers for the mask tests: the astronaut's faces and the tiny segmenter's shape."""
from __future__ import annotations

import cv2
import numpy as np
import skimage.data

from astronaut import ASTRONAUT_LANDMARKS
from phaze.masks.network import SegmenterConfig

TINY = SegmenterConfig(size_px=32, widths=(4, 8, 16))


def astronaut_landmarks() -> np.ndarray:
    """dlib's landmarks of the astronaut photo, as the face-source tests fix them."""
    return ASTRONAUT_LANDMARKS.copy()


# Real objects cut out of other scikit-image photos by hand-placed outlines (as
# bench/make_mask_labelled_set.py does): kinds the segmenter never sees in training.
CUTOUTS = {
    "cat": ("chelsea", [(140, 40), (200, 20), (260, 40), (310, 30), (330, 110), (320, 200),
                        (260, 260), (180, 260), (130, 200), (120, 110)]),
    "cup": ("coffee", [(180, 60), (420, 60), (440, 140), (520, 170), (520, 260), (420, 280),
                       (380, 330), (220, 330), (170, 200)]),
}


def paste_cutout(frame: np.ndarray, name: str, centre: tuple[int, int], side_px: int,
                 flip: bool = False) -> np.ndarray:
    """Paste the object `name` on `frame` (in place) centred at `centre`, its longer side
    `side_px`; returns its (H, W) bool footprint."""
    photo_name, outline = CUTOUTS[name]
    photo = getattr(skimage.data, photo_name)()[..., :3]
    alpha = np.zeros(photo.shape[:2], np.float32)
    cv2.fillPoly(alpha, [np.array(outline, np.int32)], 1.0, cv2.LINE_AA)
    ys, xs = np.nonzero(alpha)
    box = slice(ys.min(), ys.max() + 1), slice(xs.min(), xs.max() + 1)
    rgb, alpha = photo[box], alpha[box]
    scale = side_px / max(rgb.shape[:2])
    size = (int(rgb.shape[1] * scale), int(rgb.shape[0] * scale))
    rgb = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA).astype(np.float32)
    alpha = cv2.resize(alpha, size)[..., None]
    if flip:
        rgb, alpha = rgb[:, ::-1], alpha[:, ::-1]
    top, left = centre[1] - size[1] // 2, centre[0] - size[0] // 2
    region = frame[top:top + size[1], left:left + size[0]]
    region[:] = np.clip(region * (1 - alpha) + rgb * alpha, 0, 255).astype(np.uint8)
    footprint = np.zeros(frame.shape[:2], bool)
    footprint[top:top + size[1], left:left + size[0]] = alpha[..., 0] > 0.5
    return footprint
