"""Shared fixtures for the data tests."""
from __future__ import annotations

import numpy as np
import pytest


@pytest.fixture
def gradient_face() -> np.ndarray:
    """A 64 px RGB face with no symmetry, so flips and crops show."""
    rows, cols = np.mgrid[0:64, 0:64]
    return np.stack([cols * 4, rows * 4, (rows + 2 * cols) % 256], axis=-1).astype(np.uint8)
