"""Face geometry (taking one Framing) against faceswap's published numbers and known transforms."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from phaze.errors import ConfigError, DataError
from phaze.faces import geometry
from phaze.faces.aligned import AlignedFace
from phaze.faces.crop import subcrop_face
from phaze.faces.framing import HEAD_FRAMING, Framing


def smooth_frame(height: int = 700, width: int = 800) -> np.ndarray:
    noise = np.random.default_rng(1).integers(0, 256, (height // 16, width // 16, 3), np.uint8)
    return cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)


def similarity(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    angle = np.deg2rad(angle_deg)
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.hstack([rotation, np.array(shift)[:, None]])


@pytest.mark.parametrize("coverage, expected", [(100.0, 32), (87.5, 27)])
def test_padding_matches_pipeline_numbers(coverage, expected):
    assert geometry.padding_px(128, Framing("face", coverage)) == expected


@pytest.mark.parametrize("coverage, expected", [(100.0, 384), (87.5, 336)])
def test_face_subcrop_side_from_a_512_head_face(coverage, expected):
    assert geometry.subcrop_side_px(512, Framing("face", coverage)) == expected


def test_head_subcrop_of_a_head_face_is_the_whole_face():
    assert geometry.subcrop_side_px(512, HEAD_FRAMING) == 512


def test_vertical_offset_moves_the_crop_down_the_face_by_its_fraction_of_the_unit_face(
        landmarks):
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    level, lowered = Framing("face", 100.0, 0.0), Framing("face", 100.0, 10.0)
    inner_px = 128 - 2 * geometry.padding_px(128, level)   # the unit face's side in face px
    shift = face.aligned_landmarks(128, lowered) - face.aligned_landmarks(128, level)
    np.testing.assert_allclose(shift, np.tile([0.0, 0.1 * inner_px], (68, 1)), atol=1e-6)


def test_the_geometry_default_is_the_stored_head_framing(landmarks):
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    np.testing.assert_array_equal(face.matrix(96), face.matrix(96, Framing("head", 100.0, 0.0)))


def test_central_box_holds_the_coverage_of_the_shorter_side():
    assert geometry.central_box(100, 60, Framing(coverage=100.0)) == (20, 0, 60)
    assert geometry.central_box(64, 64, Framing(coverage=87.5)) == (4, 4, 56)


def test_umeyama_recovers_a_known_similarity():
    points = np.random.default_rng(0).normal(size=(20, 2))
    known = similarity(25.0, 1.7, (3.0, -4.0))
    fitted = geometry.umeyama(points, geometry.transform_points(points, known))
    np.testing.assert_allclose(fitted[:2], known, atol=1e-9)


def test_legacy_matrix_follows_a_similarity_of_the_landmarks(landmarks):
    known = similarity(-40.0, 0.6, (50.0, 120.0))
    moved = geometry.transform_points(landmarks, known)
    original, after = geometry.legacy_matrix(landmarks), geometry.legacy_matrix(moved)
    # after ∘ known == original: both put the face in the same place in the unit square
    np.testing.assert_allclose(after[:, :2] @ known[:, :2], original[:, :2], atol=1e-9)
    np.testing.assert_allclose(geometry.transform_points(moved, after),
                               geometry.transform_points(landmarks, original), atol=1e-9)


def test_pose_offsets_do_not_depend_on_in_plane_rotation_or_scale(landmarks):
    moved = geometry.transform_points(landmarks, similarity(70.0, 2.5, (-10.0, 40.0)))
    before, after = geometry.pose_offsets(landmarks), geometry.pose_offsets(moved)
    for centering in ("legacy", "face", "head"):
        np.testing.assert_allclose(after[centering], before[centering], atol=1e-4)
    np.testing.assert_array_equal(before["legacy"], [0.0, 0.0])
    # the head centre sits above the face centre (forehead and skull)
    assert before["head"][1] < before["face"][1]


def test_crop_matrix_scale_grows_with_padding(landmarks):
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    head, legacy = face.matrix(256, HEAD_FRAMING), face.matrix(256, Framing("legacy"))
    # the unit square spans S − 2·padding px: 256·(1 − 0.625) for head, 256·(1 − 0.375) legacy
    legacy_scale = geometry.matrix_scale(face.legacy_matrix)
    assert geometry.matrix_scale(head) == pytest.approx(96 * legacy_scale)
    assert geometry.matrix_scale(legacy) == pytest.approx(160 * legacy_scale)


def test_aligned_landmarks_follow_the_face_under_any_frame_similarity(landmarks):
    known = similarity(30.0, 1.3, (80.0, -20.0))
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    moved = AlignedFace("f.png", 0, 0, 0, 10, 10, geometry.transform_points(landmarks, known))
    framing = Framing("face", 87.5)
    np.testing.assert_allclose(moved.aligned_landmarks(128, framing),
                               face.aligned_landmarks(128, framing), atol=1e-3)


def test_face_subcrop_of_a_head_face_matches_a_direct_face_crop(landmarks):
    frame = smooth_frame()
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    head = face.warp(frame, 512)
    for coverage in (100.0, 87.5):
        framing = Framing("face", coverage)
        side = geometry.subcrop_side_px(512, framing)
        sub = subcrop_face(head, face.pose_offsets, side, framing)
        direct = face.warp(frame, side, framing)
        margin = side // 8  # the head face's own border is zero-padded; compare the middle
        difference = np.abs(sub.astype(int) - direct.astype(int))[margin:-margin, margin:-margin]
        assert difference.mean() < 4.0
        sub_matrix = geometry.subcrop_matrix(face.matrix(512), 512, face.pose_offsets, side,
                                             framing)
        np.testing.assert_allclose(sub_matrix, face.matrix(side, framing), atol=1.0)


def test_subcrop_outside_the_head_face_is_zero():
    head = np.full((64, 64, 3), 200, np.uint8)
    offsets = {"legacy": np.zeros(2), "face": np.array([0.0, 2.0]), "head": np.zeros(2)}
    cut = subcrop_face(head, offsets, 48, Framing("face"))  # moved far down: mostly outside
    assert cut[-1].max() == 0 and cut.shape == (48, 48, 3)


def test_bad_inputs_are_named():
    with pytest.raises(ConfigError, match="'whole'"):
        Framing("whole")
    with pytest.raises(ConfigError, match="coverage"):
        Framing("face", 0.0)
    with pytest.raises(DataError, match="68"):
        geometry.legacy_matrix(np.zeros((5, 2)))
