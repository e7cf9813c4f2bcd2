"""Shared, module-scoped fixtures for the extract tests: one finder, the astronaut's reference face."""
import numpy as np
import pytest

from phaze.extract.find import FaceFinder, FindConfig


@pytest.fixture(scope="session")
def astronaut() -> np.ndarray:
    from skimage import data
    return data.astronaut()


@pytest.fixture(scope="session")
def finder() -> FaceFinder:
    return FaceFinder(FindConfig())


@pytest.fixture(scope="session")
def reference_landmarks(astronaut, finder) -> np.ndarray:
    faces = finder.find(astronaut)
    assert len(faces) == 1 and faces[0].rotation == 0
    return faces[0].landmarks
