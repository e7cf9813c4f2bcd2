"""A plausible 68-point face built from the mean-face template, for geometry tests."""
from __future__ import annotations

import numpy as np
import pytest

from phaze.faces.constants import alignment_constants


def template_landmarks(scale: float = 200.0, origin: tuple[float, float] = (300.0, 200.0)):
    """68 landmarks in frame px: the mean face for 17–67 and an arc for the jaw."""
    points = np.zeros((68, 2))
    points[17:68] = alignment_constants().mean_face_51
    angles = np.linspace(np.pi, 0.0, 17)  # jaw from the right ear (image left), under the chin
    points[0:17, 0] = 0.5 + 0.52 * np.cos(angles)
    points[0:17, 1] = 0.3 + 0.75 * np.sin(angles)
    return points * scale + np.asarray(origin)


@pytest.fixture
def landmarks() -> np.ndarray:
    return template_landmarks()
