"""The face geometry convert needs, behind one small interface.

Convert does not define alignment: `phaze.faces` (the face-geometry core shared with extract and
training) does. `FaceGeometry` is the two things convert asks of it; `default_geometry()` binds
it to `phaze.faces` once that package is present. Tests may pass their own.
"""
from __future__ import annotations

from typing import Protocol

import numpy as np

from phaze.convert.framing import ModelFraming
from phaze.errors import ConfigError

LANDMARK_MASKS = ("extended", "components")


class FaceGeometry(Protocol):
    def crop_matrix(self, landmarks: np.ndarray, size_px: int,
                    framing: ModelFraming) -> np.ndarray:
        """(68, 2) frame landmarks → (2, 3) float matrix from frame to an aligned S×S face."""

    def landmark_mask(self, landmarks: np.ndarray, matrix: np.ndarray, size_px: int,
                      kind: str) -> np.ndarray:
        """(S, S) float32 mask in [0, 1] of the face in the aligned crop given by `matrix`."""


def default_geometry() -> FaceGeometry:
    try:
        from phaze.faces import convert_geometry  # type: ignore[attr-defined]
    except ImportError:
        raise ConfigError("face alignment (phaze.faces) is not available in this build; "
                          "convert cannot align faces") from None
    return convert_geometry()
