"""The geometry other packages ask for, in the shapes they asked for (convert, extract)."""
from __future__ import annotations

from typing import Protocol

import numpy as np

from phaze.faces import geometry, masks


class FramingLike(Protocol):
    """Any framing with fractions: centering, coverage (1.0 = 100 %), vertical_offset."""

    centering: str
    coverage: float
    vertical_offset: float


class ConvertGeometry:
    """convert's FaceGeometry: crop matrices and landmark masks from frame landmarks."""

    def crop_matrix(self, landmarks: np.ndarray, size_px: int,
                    framing: FramingLike) -> np.ndarray:
        """(68, 2) frame landmarks → (2, 3) frame → aligned S×S face matrix for `framing`."""
        legacy = geometry.legacy_matrix(landmarks)
        offsets = geometry.pose_offsets(landmarks, legacy)
        return geometry.crop_matrix(legacy, offsets, size_px, framing.centering,
                                    framing.coverage, framing.vertical_offset)

    def landmark_mask(self, landmarks: np.ndarray, matrix: np.ndarray, size_px: int,
                      kind: str) -> np.ndarray:
        """(S, S) float32 `kind` mask of the face in the aligned crop given by `matrix`."""
        points = geometry.transform_points(geometry.check_landmarks(landmarks), matrix)
        return masks.landmark_mask(kind, points, size_px)


def convert_geometry() -> ConvertGeometry:
    """The geometry convert uses (`phaze.convert.geometry.default_geometry`)."""
    return ConvertGeometry()
