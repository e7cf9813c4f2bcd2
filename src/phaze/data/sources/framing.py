"""Frame one stored face as a model sees it: its centering, coverage and vertical offset.

faceswap/Phaze face PNGs hold head-centred faces and the face's frame geometry, so any centering
is an exact sub-crop. Other faces (DFL
JPGs, plain crops, synthetic faces) carry no frame geometry: they are taken as already centred
and only cropped to the coverage around their middle. Training, previews and swap all frame
faces here, so a model sees the same crop of a face wherever it meets it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import cv2
import numpy as np

from phaze.data.sources.scan import FaceRecord
from phaze.faces.framing import Framing
from phaze.faces.geometry import subcrop_face, subcrop_matrix, transform_points
from phaze.errors import DataError
from phaze.io.images import decode_image

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class FramedFace:
    """One face at the working size, and what it carries, all in the same px."""

    image: np.ndarray                  # (S, S, 3) uint8 RGB
    landmarks: np.ndarray | None       # (68, 2) float32, or None for plain crops
    stored_mask: np.ndarray | None     # (S, S) uint8 mask stored in the file (or in memory)
    folder_mask: np.ndarray | None     # (S, S) uint8 mask from the masks/ folder


def frame_record(record: FaceRecord, framing: Framing, size_px: int) -> FramedFace | None:
    """`record` framed at `size_px`; None when its image (or mask file) cannot be decoded or
    is larger than the image-area budget (a warning names it)."""
    try:
        image = record.image if record.image is not None else decode_image(record.path)
        folder_mask = None
        if image is not None and record.mask_path is not None:
            folder_mask = decode_image(record.mask_path, grayscale=True)
            if folder_mask is None:
                return None
    except DataError as error:
        logger.warning("%s: skipped: %s", record.name, error)
        return None
    if image is None:
        return None
    try:
        if record.aligned is not None and image.shape[0] == image.shape[1]:
            return _subcrop(record, image, folder_mask, framing, size_px)
        return _central(record, image, folder_mask, framing, size_px)
    except (DataError, ValueError, ArithmeticError, cv2.error) as error:
        # geometry the metadata checks let through: one face is skipped, the run goes on
        logger.warning("%s: skipped: cannot be framed (%s)", record.name, error)
        return None


def _subcrop(record: FaceRecord, head: np.ndarray, folder_mask: np.ndarray | None,
             framing: Framing, size_px: int) -> FramedFace:
    """The model's centering cut out of a stored head face (zero where it reaches outside)."""
    face, head_px = record.aligned, head.shape[0]
    where = dict(centering=framing.centering, coverage=framing.coverage_ratio,
                 vertical_offset=framing.vertical_ratio)

    def crop(image: np.ndarray | None) -> np.ndarray | None:
        if image is None:
            return None
        if image.shape[0] != head_px:
            image = _resize(image, head_px)
        return subcrop_face(image, face.pose_offsets, size_px, **where)

    matrix = subcrop_matrix(face.matrix(head_px, "head"), head_px, face.pose_offsets, size_px,
                            **where)
    landmarks = transform_points(face.landmarks, matrix).astype(np.float32)
    return FramedFace(crop(head), landmarks, crop(record.mask), crop(folder_mask))


def central_box(height: int, width: int, coverage: float) -> tuple[int, int, int]:
    """(top, left, side) of the centred square holding `coverage` (0..1) of the shorter side."""
    crop = max(1, int(round(min(height, width) * coverage)))
    return (height - crop) // 2, (width - crop) // 2, crop


def central_crop(image: np.ndarray, coverage: float) -> np.ndarray:
    """The centred square of `image` holding `coverage` (0..1) of its shorter side."""
    top, left, crop = central_box(*image.shape[:2], coverage)
    return np.ascontiguousarray(image[top:top + crop, left:left + crop])


def _central(record: FaceRecord, image: np.ndarray, folder_mask: np.ndarray | None,
             framing: Framing, size_px: int) -> FramedFace:
    """The centred square holding `coverage` of the face's side, resized to `size_px`."""
    height, width = image.shape[:2]
    top, left, crop = central_box(height, width, framing.coverage_ratio)

    def cut(plane: np.ndarray | None) -> np.ndarray | None:
        if plane is None:
            return None
        if plane.shape[:2] != (height, width):
            plane = cv2.resize(plane, (width, height), interpolation=cv2.INTER_LINEAR)
        return _resize(np.ascontiguousarray(plane[top:top + crop, left:left + crop]), size_px)

    landmarks = None
    if record.landmarks is not None:
        landmarks = ((np.asarray(record.landmarks, np.float64) - (left, top))
                     * (size_px / crop)).astype(np.float32)
    return FramedFace(cut(image), landmarks, cut(record.mask), cut(folder_mask))


def _resize(image: np.ndarray, size_px: int) -> np.ndarray:
    if image.shape[0] == size_px and image.shape[1] == size_px:
        return image
    larger = size_px > image.shape[0]
    return cv2.resize(image, (size_px, size_px),
                      interpolation=cv2.INTER_CUBIC if larger else cv2.INTER_AREA)
