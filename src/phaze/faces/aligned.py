"""One detected face: where it is in its frame and how to align it at any size and framing."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from phaze.faces import geometry
from phaze.faces.framing import Framing


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

    def matrix(self, size_px: int, centering: str = "head", coverage: float = 1.0,
               vertical_offset: float = 0.0) -> np.ndarray:
        """(2, 3) frame px → face px; coverage and vertical offset as fractions."""
        return geometry.crop_matrix(self.legacy_matrix, self.pose_offsets, size_px, centering,
                                    coverage, vertical_offset)

    def framed_matrix(self, size_px: int, framing: Framing) -> np.ndarray:
        """`matrix` for a model's `Framing` (percentages)."""
        return self.matrix(size_px, framing.centering, framing.coverage_ratio,
                           framing.vertical_ratio)

    def aligned_landmarks(self, size_px: int, centering: str = "head", coverage: float = 1.0,
                          vertical_offset: float = 0.0) -> np.ndarray:
        """(68, 2) landmarks in the px of that aligned face."""
        matrix = self.matrix(size_px, centering, coverage, vertical_offset)
        return geometry.transform_points(self.landmarks, matrix)

    def warp(self, frame: np.ndarray, size_px: int, centering: str = "head",
             coverage: float = 1.0, vertical_offset: float = 0.0) -> np.ndarray:
        """The aligned face cut out of `frame` (the image this face was detected in)."""
        matrix = self.matrix(size_px, centering, coverage, vertical_offset)
        return geometry.warp_face(frame, matrix, size_px)

    @property
    def inter_ocular_px(self) -> float:
        """Distance between the eye centres in frame px (the unit for landmark errors)."""
        return float(np.linalg.norm(self.landmarks[36:42].mean(0) - self.landmarks[42:48].mean(0)))
