"""Put one processed face back into its frame with the inverse of its crop matrix."""
from __future__ import annotations

import cv2
import numpy as np


def crop(frame: np.ndarray, matrix: np.ndarray, size_px: int) -> np.ndarray:
    """(H, W, 3) uint8 frame → (S, S, 3) uint8 aligned face."""
    return cv2.warpAffine(frame, matrix, (size_px, size_px), flags=cv2.INTER_AREA,
                          borderMode=cv2.BORDER_REPLICATE)


def scale_matrix(matrix: np.ndarray, from_px: int, to_px: int) -> np.ndarray:
    """The crop matrix for a face of side `to_px` instead of `from_px`."""
    return matrix * (to_px / from_px)


def paste(frame: np.ndarray, face: np.ndarray, mask: np.ndarray,
          matrix: np.ndarray) -> np.ndarray:
    """Alpha-composite `face` (S, S, 3) float [0, 1] with `mask` (S, S) into `frame` in place.

    Only pixels the warped mask touches (weight > 0) change; every other pixel keeps its
    exact source value, which is what lets a convert be checked against its source.
    """
    height, width = frame.shape[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    # Only the bounding box of the warped crop can change: warp into that window alone.
    size = face.shape[0]
    corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64)
    inverse = cv2.invertAffineTransform(matrix)
    points = corners @ inverse[:, :2].T + inverse[:, 2]
    left, top = np.floor(points.min(axis=0)).astype(int) - 1
    right, bottom = np.ceil(points.max(axis=0)).astype(int) + 1
    left, top, right, bottom = max(left, 0), max(top, 0), min(right, width), min(bottom, height)
    if left >= right or top >= bottom:
        return frame
    window = matrix.astype(np.float64).copy()
    window[:, 2] += window[:, :2] @ np.array([left, top], np.float64)  # frame offset
    box = (right - left, bottom - top)
    warped_mask = cv2.warpAffine(mask, window, box, flags=flags, borderMode=cv2.BORDER_CONSTANT)
    warped_face = cv2.warpAffine(face, window, box, flags=flags, borderMode=cv2.BORDER_REPLICATE)
    region = frame[top:bottom, left:right]
    alpha = warped_mask[..., None]
    blended = region.astype(np.float32) * (1.0 - alpha) + warped_face * 255.0 * alpha
    blended = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    touched = warped_mask > 0
    region[touched] = blended[touched]
    return frame
