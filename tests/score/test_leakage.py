"""Identity leakage as a metric: the old identity's own faces leak fully, the intended identity's
do not, and swaps without a face are never counted as leaked."""
from __future__ import annotations

import cv2
import numpy as np
import pytest
import skimage.data

from phaze.score.leakage import identity_leakage, score_leakage

SIZE = 160


@pytest.fixture(scope="module")
def old_a_faces() -> np.ndarray:
    """The old A: Eileen Collins' face (skimage's astronaut) and its mirror."""
    face = skimage.data.astronaut()[46:196, 145:295]
    face = cv2.resize(face, (SIZE, SIZE), interpolation=cv2.INTER_CUBIC)
    return np.stack([face, face[:, ::-1]])


@pytest.fixture(scope="module")
def b_faces() -> np.ndarray:
    """B: two lfw_subset faces (25 px grey), upscaled to colour crops."""
    grey = (skimage.data.lfw_subset()[[0, 10]] * 255).astype(np.uint8)
    return np.stack([cv2.resize(np.stack([g] * 3, -1), (SIZE, SIZE),
                                interpolation=cv2.INTER_CUBIC) for g in grey])


def test_the_old_identity_through_a_model_that_renders_it_scores_as_leaked(
        recognizer, old_a_faces, b_faces):
    # An old model that learned old A perfectly draws old A's faces as themselves.
    def old_model(faces):
        return faces.copy()

    score = score_leakage(old_model(old_a_faces), old_a_faces, b_faces, recognizer)

    assert score.share == 1.0 and score.margin > 0
    assert score.swaps_without_face == 0 and not score.notes


def test_swaps_that_show_the_intended_identity_do_not_leak(recognizer, old_a_faces, b_faces):
    score = score_leakage(b_faces, old_a_faces, b_faces, recognizer)

    assert score.share == 0.0 and score.margin < 0


def test_a_fresh_models_swaps_are_not_counted_as_leaked(recognizer, old_a_faces, b_faces,
                                                        train_tiny):
    import torch

    from phaze.config.parse import options_from_mapping
    from phaze.inference import Swapper
    from phaze.model.phaze_a import build_model

    torch.manual_seed(0)
    fresh = build_model(options_from_mapping(train_tiny), "cpu")
    swaps = Swapper(fresh, "a-to-b").swap_arrays(old_a_faces).faces

    score = score_leakage(swaps, old_a_faces, b_faces, recognizer)

    assert score.share is None and score.swaps_without_face == len(swaps)
    assert "leakage not computed" in score.notes[0]


def test_identity_leakage_math() -> None:
    old, intended = np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])
    swaps = np.array([[1.0, 0.1], [0.2, 1.0], [3.0, 0.0], [0.0, 1.0]])

    leak = identity_leakage(swaps, old, intended)

    assert leak.share == pytest.approx(0.5) and leak.count == 4
    expected = np.mean([(1 - 0.1) / np.hypot(1, 0.1), (0.2 - 1) / np.hypot(0.2, 1), 1.0, -1.0])
    assert leak.margin == pytest.approx(expected)
