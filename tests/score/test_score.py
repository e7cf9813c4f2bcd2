"""`phaze score` as a metric on real faces: perfect swap 1.0, no swap 0.0, self landmarks 0."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from phaze.score.metrics import identity_transfer, landmark_error_percent_iod
from phaze.score.run import score_direction, score_faces

SIZE = 160


@pytest.fixture(scope="module")
def astronaut_faces() -> np.ndarray:
    """Eileen Collins' face (dlib box (175, 76)–(265, 166)) with a margin, and its mirror."""
    face = skimage.data.astronaut()[46:196, 145:295]
    face = cv2.resize(face, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    return np.stack([face, face[:, ::-1]])


@pytest.fixture(scope="module")
def lfw_faces() -> np.ndarray:
    """Two lfw_subset faces (25 px grey), upscaled to colour crops."""
    grey = (skimage.data.lfw_subset()[[0, 10]] * 255).astype(np.uint8)
    return np.stack([cv2.resize(np.stack([g] * 3, -1), (SIZE, SIZE),
                                interpolation=cv2.INTER_CUBIC) for g in grey])


def test_perfect_swap_transfers_identity_fully(recognizer, astronaut_faces, lfw_faces) -> None:
    score = score_direction(astronaut_faces, lfw_faces, lfw_faces, recognizer)
    assert score.identity_share == 1.0 and score.identity_margin > 0
    assert score.swaps_without_face == 0 and not score.notes


def test_no_swap_transfers_nothing(recognizer, astronaut_faces, lfw_faces) -> None:
    score = score_direction(astronaut_faces, lfw_faces, astronaut_faces, recognizer)
    assert score.identity_share == 0.0 and score.identity_margin < 0
    assert score.landmark_error_percent_iod == 0.0


def test_cartoon_faces_are_reported_not_scored(recognizer, astronaut_faces) -> None:
    cartoon = np.zeros_like(astronaut_faces)
    cv2.circle(cartoon[0], (80, 80), 50, (230, 190, 160), -1)
    cv2.circle(cartoon[1], (80, 80), 40, (200, 170, 150), -1)
    score = score_direction(astronaut_faces, cartoon, cartoon, recognizer)
    assert score.identity_share is None and score.landmark_error_percent_iod is None
    assert score.swaps_without_face == 2 and "no face found" in score.notes[0]


def test_score_faces_reports_both_directions_and_ssim(recognizer, astronaut_faces,
                                                      lfw_faces) -> None:
    identity = {"a": lambda faces: faces, "b": lambda faces: faces}
    report = score_faces(astronaut_faces, lfw_faces, identity, recognizer).to_dict()
    assert report["reconstruction_ssim"] == {"a": pytest.approx(1.0), "b": pytest.approx(1.0)}
    assert report["directions"]["a-to-b"]["identity_share"] == 0.0
    assert report["directions"]["b-to-a"]["identity_share"] == 0.0


def test_identity_transfer_math() -> None:
    source, target = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    swaps = np.array([[0.1, 1.0], [1.0, 0.2], [0.0, 2.0]])
    transfer = identity_transfer(swaps, source, target)
    assert transfer.share == pytest.approx(2 / 3) and transfer.count == 3


def test_landmark_error_is_in_percent_of_inter_ocular_distance() -> None:
    points = np.zeros((68, 2))
    points[36:42] = [10.0, 0.0]
    points[42:48] = [30.0, 0.0]  # IOD 20 px
    assert landmark_error_percent_iod(points, points) == 0.0
    assert landmark_error_percent_iod(points, points + [2.0, 0.0]) == pytest.approx(10.0)
