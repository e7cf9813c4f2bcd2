"""Helpers for the mask tests: the astronaut's faces and the tiny segmenter's shape."""
from __future__ import annotations

import numpy as np

from astronaut import ASTRONAUT_LANDMARKS, write_astronaut_faces  # noqa: F401 (mask tests use it)
from phaze.masks.network import SegmenterConfig

TINY = SegmenterConfig(size_px=32, widths=(4, 8, 16))


def astronaut_landmarks() -> np.ndarray:
    """dlib's landmarks of the astronaut photo, as the face-source tests fix them."""
    return ASTRONAUT_LANDMARKS.copy()
