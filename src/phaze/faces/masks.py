"""Landmark masks (components, extended) and the eye and mouth loss areas.

Every function takes 68 landmarks already in the face's own px and returns a float32
(size, size) mask in [0, 1].
"""
from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np

from phaze.faces.constants import alignment_constants
from phaze.faces.geometry import check_landmarks
from phaze.registry import Registry

AREA_DILATION = 0.025   # eye/mouth areas grow by 2.5 % of the face side
AREA_BLUR_DIVISOR = 16  # ... and are blurred with a kernel of side/16
RIGHT_EYE, LEFT_EYE, OUTER_MOUTH = slice(36, 42), slice(42, 48), slice(48, 60)


def _fill_hull(mask: np.ndarray, points: np.ndarray) -> None:
    hull = cv2.convexHull(np.round(points).astype(np.int32))
    cv2.fillConvexPoly(mask, hull, 1.0, lineType=cv2.LINE_AA)


def _parts_mask(landmarks: np.ndarray, size_px: int) -> np.ndarray:
    mask = np.zeros((size_px, size_px), np.float32)
    for ranges in alignment_constants().mask_parts.values():
        indices = np.concatenate([np.arange(start, end) for start, end in ranges])
        _fill_hull(mask, landmarks[indices])
    return mask


def components_mask(landmarks: np.ndarray, size_px: int) -> np.ndarray:
    """Union of the filled convex hulls of the mask parts."""
    return _parts_mask(check_landmarks(landmarks), size_px)


def raised_eyebrows(landmarks: np.ndarray) -> np.ndarray:
    """A copy of the landmarks with each eyebrow moved away from its upper eye by half."""
    points = check_landmarks(landmarks).copy()
    right_eye = np.vstack([points[36] + (points[0] - points[36]) / 4, points[36:40]])
    left_eye = np.vstack([points[42:46], points[45] + (points[16] - points[45]) / 4])
    for brow, eye in ((slice(17, 22), right_eye), (slice(22, 27), left_eye)):
        points[brow] += (points[brow] - eye) / 2
    return points


def extended_mask(landmarks: np.ndarray, size_px: int) -> np.ndarray:
    """The components mask after raising the eyebrows (covers the forehead)."""
    return _parts_mask(raised_eyebrows(landmarks), size_px)


def _area_mask(landmarks: np.ndarray, size_px: int, parts: tuple[slice, ...]) -> np.ndarray:
    points = check_landmarks(landmarks)
    mask = np.zeros((size_px, size_px), np.float32)
    for part in parts:
        _fill_hull(mask, points[part])
    dilation = int(round(size_px * AREA_DILATION))
    if dilation > 0:
        kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * dilation + 1,) * 2)
        mask = cv2.dilate(mask, kernel)
    blur = size_px // AREA_BLUR_DIVISOR
    if blur > 1:
        blur += 1 - blur % 2  # Gaussian kernels must be odd
        mask = cv2.GaussianBlur(mask, (blur, blur), 0)
    return np.clip(mask, 0.0, 1.0)


def eye_mask(landmarks: np.ndarray, size_px: int) -> np.ndarray:
    """Both eyes (hulls of 36–41 and 42–47), dilated 2.5 % and blurred by size/16."""
    return _area_mask(landmarks, size_px, (RIGHT_EYE, LEFT_EYE))


def mouth_mask(landmarks: np.ndarray, size_px: int) -> np.ndarray:
    """The outer mouth (hull of 48–59), dilated 2.5 % and blurred by size/16."""
    return _area_mask(landmarks, size_px, (OUTER_MOUTH,))


LANDMARK_MASKS: Registry[Callable[[np.ndarray, int], np.ndarray]] = Registry("mask type")
LANDMARK_MASKS.add("components", components_mask)
LANDMARK_MASKS.add("extended", extended_mask)


def landmark_mask(name: str, landmarks: np.ndarray, size_px: int) -> np.ndarray:
    """The landmark mask called `name` (components or extended)."""
    return LANDMARK_MASKS.get_entry(name)(landmarks, size_px)
