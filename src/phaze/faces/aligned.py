"""One detected face: where it is in its frame and how to align it at any size and framing.

`CoreGeometry` is the same alignment behind the small `FaceGeometry` interface convert takes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from phaze.faces import geometry, masks
from phaze.faces.crop import ALIGNED, crop
from phaze.faces.framing import HEAD_FRAMING, Framing


@dataclass
class AlignedFace:
    """A face in a frame: box and 68 landmarks in frame px, with its matrices cached."""

    frame: str                 # frame name (file name, or video frame name)
    face_index: int
    x: int                     # detection box, frame px
    y: int
    w: int
    h: int
    landmarks: np.ndarray      # (68, 2) float64, frame px
    score: float = 1.0
    track_id: int | None = None   # the video face track it belongs to (extract), when known
    _legacy: np.ndarray | None = field(default=None, init=False, repr=False, compare=False)
    _offsets: dict[str, np.ndarray] | None = field(default=None, init=False, repr=False,
                                                   compare=False)

    def __post_init__(self) -> None:
        self.landmarks = geometry.check_landmarks(self.landmarks)

    @property
    def legacy_matrix(self) -> np.ndarray:
        """(2, 3) frame px → unit square (legacy centering)."""
        if self._legacy is None:
            self._legacy = geometry.legacy_matrix(self.landmarks)
        return self._legacy

    @property
    def pose_offsets(self) -> dict[str, np.ndarray]:
        """Centering → (2,) pose offset in unit-square units."""
        if self._offsets is None:
            self._offsets = geometry.pose_offsets(self.landmarks, self.legacy_matrix)
        return self._offsets

    def matrix(self, size_px: int, framing: Framing = HEAD_FRAMING) -> np.ndarray:
        """(2, 3) frame px → px of this face cut at `size_px` with `framing`."""
        return geometry.crop_matrix(self.legacy_matrix, self.pose_offsets, size_px, framing)

    def aligned_landmarks(self, size_px: int, framing: Framing = HEAD_FRAMING) -> np.ndarray:
        """(68, 2) landmarks in the px of that aligned face."""
        return geometry.transform_points(self.landmarks, self.matrix(size_px, framing))

    def warp(self, frame: np.ndarray, size_px: int,
             framing: Framing = HEAD_FRAMING) -> np.ndarray:
        """The aligned face cut out of `frame` (the image this face was detected in)."""
        return crop(frame, self.matrix(size_px, framing), size_px, ALIGNED)

    @property
    def inter_ocular_px(self) -> float:
        """Distance between the eye centres in frame px (the unit for landmark errors)."""
        return float(np.linalg.norm(self.landmarks[36:42].mean(0) - self.landmarks[42:48].mean(0)))


class FaceGeometry(Protocol):
    """What convert (and the mask model at convert) asks of face geometry; tests may fake it."""

    def crop_matrix(self, landmarks: np.ndarray, size_px: int,
                    framing: Framing) -> np.ndarray:
        """(68, 2) frame landmarks → (2, 3) float matrix from frame to an aligned S×S face."""

    def landmark_mask(self, landmarks: np.ndarray, matrix: np.ndarray, size_px: int,
                      kind: str) -> np.ndarray:
        """(S, S) float32 mask in [0, 1] of the face in the aligned crop given by `matrix`."""


class CoreGeometry:
    """`FaceGeometry` on this package: the same matrices and masks extract and training use."""

    def crop_matrix(self, landmarks: np.ndarray, size_px: int,
                    framing: Framing) -> np.ndarray:
        return AlignedFace("", 0, 0, 0, 0, 0, landmarks).matrix(size_px, framing)

    def landmark_mask(self, landmarks: np.ndarray, matrix: np.ndarray, size_px: int,
                      kind: str) -> np.ndarray:
        aligned = geometry.transform_points(np.asarray(landmarks, np.float64), matrix)
        mask = np.asarray(masks.landmark_mask(kind, aligned, size_px), np.float32)
        return mask / 255.0 if mask.max(initial=0.0) > 1.0 else mask
