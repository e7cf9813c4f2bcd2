"""One dlib recognizer for every score test: loading its ~130 MB of models takes seconds."""
from __future__ import annotations

import pytest

from phaze.score.recognizer import FaceRecognizer


@pytest.fixture(scope="session")
def recognizer() -> FaceRecognizer:
    return FaceRecognizer()
