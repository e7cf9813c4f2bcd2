"""Landmark masks, eye and mouth areas, and Framing validation."""
from __future__ import annotations

import numpy as np
import pytest

from phaze.errors import ConfigError
from phaze.faces import masks
from phaze.faces.aligned import AlignedFace
from phaze.faces.framing import Framing


@pytest.fixture
def face_points(landmarks):
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    return face.aligned_landmarks(128, Framing("face"))


def test_extended_mask_contains_components_and_reaches_higher(face_points):
    components = masks.components_mask(face_points, 128)
    extended = masks.extended_mask(face_points, 128)
    assert components.dtype == np.float32 and components.shape == (128, 128)
    assert (extended >= components - 1e-6).all()
    top = lambda mask: np.argwhere(mask > 0.5)[:, 0].min()  # noqa: E731
    assert top(extended) < top(components)
    brow_y = face_points[17:27, 1].min()
    assert top(components) >= brow_y - 2


def test_raised_eyebrows_move_by_half_the_distance_to_the_eye(face_points):
    raised = masks.raised_eyebrows(face_points)
    np.testing.assert_allclose(raised[19], face_points[19] + (face_points[19] - face_points[37]) / 2)
    np.testing.assert_array_equal(raised[27:], face_points[27:])


def test_eye_and_mouth_areas_cover_their_parts_only(face_points):
    eyes, mouth = masks.eye_mask(face_points, 128), masks.mouth_mask(face_points, 128)
    for centre in (face_points[36:42].mean(0), face_points[42:48].mean(0)):
        assert eyes[int(centre[1]), int(centre[0])] > 0.9
    mouth_centre = face_points[48:60].mean(0)
    assert mouth[int(mouth_centre[1]), int(mouth_centre[0])] > 0.9
    assert eyes[int(mouth_centre[1]), int(mouth_centre[0])] == 0.0
    assert 0.0 <= eyes.min() and eyes.max() <= 1.0


def test_unknown_mask_type_is_named(face_points):
    with pytest.raises(ConfigError, match="'hull'.*components, extended"):
        masks.landmark_mask("hull", face_points, 64)


def test_framing_defaults_and_round_trip():
    framing = Framing()
    assert (framing.centering, framing.coverage, framing.vertical_offset) == ("face", 100.0, 0.0)
    assert Framing.from_dict(Framing("head", 87.5, -10).to_dict()) == Framing("head", 87.5, -10)


@pytest.mark.parametrize("kwargs, message", [
    ({"centering": "whole"}, "'centering' = 'whole'.*legacy, face, head"),
    ({"coverage": 50}, "'coverage' = 50.*62.5 to 100"),
    ({"vertical_offset": 30}, "'vertical_offset' = 30.*-25 to 25"),
])
def test_framing_errors_name_option_value_and_range(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Framing(**kwargs)
