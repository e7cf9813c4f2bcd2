"""The astronaut's landmarks for the face-source tests."""
from __future__ import annotations

import numpy as np
import pytest

from astronaut import ASTRONAUT_LANDMARKS


@pytest.fixture
def astronaut_landmarks() -> np.ndarray:
    return ASTRONAUT_LANDMARKS.copy()
