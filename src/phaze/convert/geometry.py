"""The face geometry convert needs, behind one small interface.

Convert does not define alignment: `phaze.faces` (the face-geometry core shared with extract and
training) does. `FaceGeometry` is the two things convert asks of it; `default_geometry()` binds
it to `phaze.faces` once that package is present. Tests may pass their own.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from phaze.faces.framing import Framing
from phaze.errors import ConfigError



class FaceGeometry(Protocol):
    def crop_matrix(self, landmarks: np.ndarray, size_px: int,
                    framing: Framing) -> np.ndarray:
        """(68, 2) frame landmarks → (2, 3) float matrix from frame to an aligned S×S face."""

    def landmark_mask(self, landmarks: np.ndarray, matrix: np.ndarray, size_px: int,
                      kind: str) -> np.ndarray:
        """(S, S) float32 mask in [0, 1] of the face in the aligned crop given by `matrix`."""


class CoreGeometry:
    """`FaceGeometry` on `phaze.faces`: the same matrices and masks extract and training use."""

    def __init__(self) -> None:
        from phaze.faces import geometry, masks

        self._geometry, self._masks = geometry, masks

    def crop_matrix(self, landmarks: np.ndarray, size_px: int,
                    framing: Framing) -> np.ndarray:
        points = np.asarray(landmarks, np.float64)
        legacy = self._geometry.legacy_matrix(points)
        offsets = self._geometry.pose_offsets(points, legacy)
        return self._geometry.crop_matrix(legacy, offsets, size_px, framing.centering,
                                          framing.coverage_ratio, framing.vertical_ratio)

    def landmark_mask(self, landmarks: np.ndarray, matrix: np.ndarray, size_px: int,
                      kind: str) -> np.ndarray:
        aligned = self._geometry.transform_points(np.asarray(landmarks, np.float64), matrix)
        mask = np.asarray(self._masks.landmark_mask(kind, aligned, size_px), np.float32)
        return mask / 255.0 if mask.max(initial=0.0) > 1.0 else mask


def default_geometry() -> FaceGeometry:
    """The shared face-geometry core, or one clear line when this build lacks it."""
    try:
        return CoreGeometry()
    except ImportError:
        raise ConfigError("face alignment (phaze.faces) is not available in this build; "
                          "convert cannot align faces") from None
