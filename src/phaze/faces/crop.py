"""The one crop (a face out of its frame) and the one paste (back in), and framing stored faces.

Convert, swap, score, training, masks and export all cut faces here, so a model meets the same
pixels wherever it sees a face. Where callers sample differently the difference is a named
`WarpStyle`, not a second copy of the code:

- `ALIGNED` (extract, training, the mask model): cubic when enlarging, area when shrinking,
  zero outside the frame, as faceswap stores faces.
- `CONVERT`: bilinear, edge pixels repeated outside the frame, so a face at the frame's edge
  gives the model no black band to swap.
- `SEGMENTER` (the occlusion mask model at convert): bilinear, zero outside the frame.

In `cv2.warpAffine`, INTER_AREA samples exactly as INTER_LINEAR (OpenCV substitutes it), so
`ALIGNED` shrinks bilinearly; `cv2.resize` (sub-crops of stored faces) does average areas.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

from phaze.errors import DataError
from phaze.faces.framing import Framing
from phaze.faces.geometry import (central_box, invert_matrix, matrix_scale, subcrop_box,
                                  subcrop_matrix, transform_points)

if TYPE_CHECKING:  # aligned.py cuts its faces here: a runtime import would be a cycle
    from phaze.faces.aligned import AlignedFace


@dataclass(frozen=True)
class WarpStyle:
    """How `crop` and `paste` sample: a fixed cv2 INTER_* flag (None: cubic when enlarging,
    area when shrinking) and the cv2 border mode of the face outside the frame."""

    interpolation: int | None
    border: int

    def flags(self, scale: float) -> int:
        """The cv2 flag for a warp that enlarges by `scale` (face px per source px)."""
        if self.interpolation is not None:
            return self.interpolation
        return cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_AREA


# What cutting a face with absurd geometry (that the metadata checks let through) may raise.
FRAMING_ERRORS = (DataError, ValueError, ArithmeticError, cv2.error)

ALIGNED = WarpStyle(interpolation=None, border=cv2.BORDER_CONSTANT)
CONVERT = WarpStyle(interpolation=cv2.INTER_LINEAR, border=cv2.BORDER_REPLICATE)
SEGMENTER = WarpStyle(interpolation=cv2.INTER_LINEAR, border=cv2.BORDER_CONSTANT)


def crop(frame: np.ndarray, matrix: np.ndarray, size_px: int,
         style: WarpStyle = ALIGNED) -> np.ndarray:
    """The (S, S[, C]) face cut out of `frame` by the frame → face `matrix`."""
    matrix = np.asarray(matrix, np.float64)
    return cv2.warpAffine(frame, matrix, (size_px, size_px),
                          flags=style.flags(matrix_scale(matrix)), borderMode=style.border,
                          borderValue=0)


def paste(frame: np.ndarray, face: np.ndarray, mask: np.ndarray | None, matrix: np.ndarray,
          style: WarpStyle = CONVERT) -> np.ndarray:
    """Alpha-composite `face` (S, S, 3) float [0, 1] under `mask` (S, S) float [0, 1] into the
    uint8 `frame` in place (and return it); without a mask the whole square is pasted.

    Only pixels the warped mask touches (weight > 0) change; every other pixel keeps its exact
    source value, which is what lets a convert be checked against its source.
    """
    if mask is None:
        mask = np.ones(face.shape[:2], np.float32)
    window = _paste_window(frame.shape, face.shape[0], matrix)
    if window is None:
        return frame
    left, top, right, bottom = window
    shifted = np.asarray(matrix, np.float64).copy()
    shifted[:, 2] += shifted[:, :2] @ np.array([left, top], np.float64)  # frame offset
    scale = matrix_scale(matrix)
    flags = style.flags(1.0 / scale if scale else 1.0) | cv2.WARP_INVERSE_MAP
    box = (right - left, bottom - top)
    warped_mask = cv2.warpAffine(mask, shifted, box, flags=flags, borderMode=cv2.BORDER_CONSTANT)
    warped_face = cv2.warpAffine(face, shifted, box, flags=flags, borderMode=style.border)
    region = frame[top:bottom, left:right]
    alpha = warped_mask[..., None]
    blended = region.astype(np.float32) * (1.0 - alpha) + warped_face * 255.0 * alpha
    blended = np.clip(np.round(blended), 0, 255).astype(np.uint8)
    touched = warped_mask > 0
    region[touched] = blended[touched]
    return frame


def _paste_window(frame_shape: tuple[int, ...], size_px: int,
                  matrix: np.ndarray) -> tuple[int, int, int, int] | None:
    """(left, top, right, bottom) of the frame a face of `size_px` can reach, or None when it
    lies outside: only that window is warped, not the whole frame."""
    height, width = frame_shape[:2]
    corners = np.array([[0, 0], [size_px, 0], [0, size_px], [size_px, size_px]], np.float64)
    points = transform_points(corners, invert_matrix(matrix))
    left, top = np.floor(points.min(axis=0)).astype(int) - 1
    right, bottom = np.ceil(points.max(axis=0)).astype(int) + 1
    left, top, right, bottom = max(left, 0), max(top, 0), min(right, width), min(bottom, height)
    return None if left >= right or top >= bottom else (left, top, right, bottom)


def scale_matrix(matrix: np.ndarray, from_px: int, to_px: int) -> np.ndarray:
    """The crop matrix for a face of side `to_px` instead of `from_px`."""
    return matrix * (to_px / from_px)


def resize_square(image: np.ndarray, size_px: int) -> np.ndarray:
    """`image` at (size_px, size_px): cubic when enlarging, area when shrinking."""
    if image.shape[0] == size_px and image.shape[1] == size_px:
        return image
    larger = size_px > image.shape[0]
    return cv2.resize(image, (size_px, size_px),
                      interpolation=cv2.INTER_CUBIC if larger else cv2.INTER_AREA)


# --- faces already cut out (stored faces, plain crops) ----------------------------------------
def subcrop_face(head_face: np.ndarray, offsets: dict[str, np.ndarray], size_px: int,
                 framing: Framing) -> np.ndarray:
    """The framing's crop of a stored head-centred face, at `size_px`; zero outside it."""
    height, width = head_face.shape[:2]
    if height != width:
        raise DataError(f"head face is {width}×{height} px: expected a square image")
    left, top, side = subcrop_box(height, offsets, framing)
    cut = np.zeros((side, side) + head_face.shape[2:], head_face.dtype)
    src_x0, src_y0 = max(left, 0), max(top, 0)
    src_x1, src_y1 = min(left + side, width), min(top + side, height)
    if src_x1 > src_x0 and src_y1 > src_y0:
        cut[src_y0 - top:src_y1 - top, src_x0 - left:src_x1 - left] = \
            head_face[src_y0:src_y1, src_x0:src_x1]
    return resize_square(cut, size_px)


def central_crop(image: np.ndarray, framing: Framing) -> np.ndarray:
    """The centred square of `image` holding the framing's coverage of its shorter side."""
    top, left, side = central_box(*image.shape[:2], framing)
    return np.ascontiguousarray(image[top:top + side, left:left + side])


@dataclass(frozen=True)
class StoredFaceCut:
    """How one stored face image (and every plane of the same size, such as its masks) is cut
    to a framing at `size_px`.

    A head-centred faceswap/Phaze face with its frame geometry (`aligned`) is sub-cropped
    exactly at any centering; any other face (DFL, plain crop, synthetic) is taken as already
    centred and cut to the coverage around its middle.
    """

    height: int
    width: int
    framing: Framing
    size_px: int
    aligned: AlignedFace | None = None  # of a square head face; None: central crop

    def plane(self, plane: np.ndarray | None) -> np.ndarray | None:
        """`plane` (the image or a mask) cut like the image; resized to it first if needed."""
        if plane is None:
            return None
        if self.aligned is not None:
            if plane.shape[0] != self.height:
                plane = resize_square(plane, self.height)
            return subcrop_face(plane, self.aligned.pose_offsets, self.size_px, self.framing)
        if plane.shape[:2] != (self.height, self.width):
            plane = cv2.resize(plane, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
        top, left, side = central_box(self.height, self.width, self.framing)
        return resize_square(np.ascontiguousarray(plane[top:top + side, left:left + side]),
                             self.size_px)

    def landmarks(self, stored: np.ndarray | None) -> np.ndarray | None:
        """(68, 2) float32 landmarks in the cut face's px (from the frame geometry when there
        is one, else from the `stored` landmarks in the image's px); None without either."""
        if self.aligned is not None:
            head = self.aligned.matrix(self.height)
            matrix = subcrop_matrix(head, self.height, self.aligned.pose_offsets, self.size_px,
                                    self.framing)
            return transform_points(self.aligned.landmarks, matrix).astype(np.float32)
        if stored is None:
            return None
        top, left, side = central_box(self.height, self.width, self.framing)
        return ((np.asarray(stored, np.float64) - (left, top))
                * (self.size_px / side)).astype(np.float32)


def stored_face_cut(image: np.ndarray, aligned: AlignedFace | None, framing: Framing,
                    size_px: int) -> StoredFaceCut:
    """The cut of `image` to `framing`: a sub-crop when `aligned` (its frame geometry) is known
    and the image is square, else the central crop."""
    height, width = image.shape[:2]
    exact = aligned is not None and height == width
    return StoredFaceCut(height, width, framing, size_px, aligned if exact else None)
