"""`phaze score` as a metric on real faces: perfect swap 1.0, no swap 0.0, self landmarks 0."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from phaze.score.metrics import (identity_retrieval, identity_transfer,
                                 landmark_error_percent_iod, sharpness_ratio)
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


def _lfw(indices) -> np.ndarray:
    grey = (skimage.data.lfw_subset()[list(indices)] * 255).astype(np.uint8)
    return np.stack([cv2.resize(np.stack([g] * 3, -1), (SIZE, SIZE),
                                interpolation=cv2.INTER_CUBIC) for g in grey])


@pytest.fixture(scope="module")
def distractors() -> list[np.ndarray]:
    """Three other lfw_subset people, one face each."""
    return [_lfw([index]) for index in (1, 2, 3)]


def test_perfect_swap_transfers_identity_fully(recognizer, astronaut_faces, lfw_faces,
                                               distractors) -> None:
    score = score_direction(astronaut_faces, lfw_faces, lfw_faces, recognizer, distractors)
    assert score.identity_share == 1.0 and score.identity_margin > 0
    assert score.retrieval_top1 == 1.0 and score.retrieval_margin > 0
    assert score.gallery_identities == 5 and score.sharpness_ratio == pytest.approx(1.0)
    assert score.verdict == "transfer"
    assert score.swaps_without_face == 0 and not score.notes


def test_blurred_swaps_no_longer_score_as_a_transfer(recognizer, astronaut_faces, lfw_faces,
                                                     distractors) -> None:
    blurred = np.stack([cv2.GaussianBlur(face, (0, 0), 6) for face in lfw_faces])
    score = score_direction(astronaut_faces, lfw_faces, blurred, recognizer, distractors)
    assert score.identity_share == 1.0      # the two-way share alone is fooled by the blur
    assert score.sharpness_ratio < 0.4
    assert score.verdict == "too blurry to judge"


def test_no_swap_transfers_nothing(recognizer, astronaut_faces, lfw_faces) -> None:
    score = score_direction(astronaut_faces, lfw_faces, astronaut_faces, recognizer)
    assert score.identity_share == 0.0 and score.identity_margin < 0
    assert score.retrieval_top1 == 0.0 and score.verdict == "no transfer"
    assert score.landmark_error_percent_iod == 0.0


def test_cartoon_faces_are_reported_not_scored(recognizer, astronaut_faces) -> None:
    cartoon = np.zeros_like(astronaut_faces)
    cv2.circle(cartoon[0], (80, 80), 50, (230, 190, 160), -1)
    cv2.circle(cartoon[1], (80, 80), 40, (200, 170, 150), -1)
    score = score_direction(astronaut_faces, cartoon, cartoon, recognizer)
    assert score.identity_share is None and score.landmark_error_percent_iod is None
    assert score.swaps_without_face == 2 and "no face found" in score.notes[0]
    assert score.verdict == "too blurry to judge"


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


def test_retrieval_counts_a_swap_nearest_a_distractor_as_a_miss() -> None:
    gallery = {"source": np.array([[1.0, 0.0, 0.0]]), "target": np.array([[0.0, 1.0, 0.0]]),
               "distractor": np.array([[0.0, 0.0, 1.0]])}
    swaps = np.array([[0.1, 1.0, 0.0], [0.0, 0.5, 1.0]])   # the second is nearer B than A
    retrieval = identity_retrieval(swaps, gallery, "target")
    assert retrieval.top1 == 0.5 and retrieval.identities == 3
    assert retrieval.margin_std > 0
    two_way = identity_transfer(swaps, gallery["source"], gallery["target"])
    assert two_way.share == 1.0


def test_a_swap_nearest_the_target_but_too_far_from_it_is_not_recognised() -> None:
    # An "average face": nearest B, but farther from B than dlib's same-person distance.
    gallery = {"source": np.array([[1.0, 0.0]]), "target": np.array([[0.0, 1.0]])}
    retrieval = identity_retrieval(np.array([[0.45, 0.55]]), gallery, "target")
    assert retrieval.margin > 0 and retrieval.target_distance > 0.6
    assert retrieval.top1 == 0.0


def test_sharpness_ratio_drops_with_blur_and_is_one_for_the_targets(astronaut_faces) -> None:
    blurred = np.stack([cv2.GaussianBlur(face, (0, 0), 3) for face in astronaut_faces])
    assert sharpness_ratio(astronaut_faces, astronaut_faces) == pytest.approx(1.0)
    assert sharpness_ratio(blurred, astronaut_faces) < 0.5
    small = np.stack([cv2.resize(f, (64, 64), interpolation=cv2.INTER_AREA)
                      for f in astronaut_faces])
    assert sharpness_ratio(small, astronaut_faces) == pytest.approx(1.0)   # compared at 64 px
