"""Face geometry against faceswap's published numbers, known transforms and round trips."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from phaze.errors import ConfigError, DataError
from phaze.faces import geometry
from phaze.faces.aligned import AlignedFace


def similarity(angle_deg: float, scale: float, shift: tuple[float, float]) -> np.ndarray:
    angle = np.deg2rad(angle_deg)
    rotation = scale * np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    return np.hstack([rotation, np.array(shift)[:, None]])


@pytest.mark.parametrize("coverage, expected", [(1.0, 32), (0.875, 27)])
def test_padding_matches_pipeline_numbers(coverage, expected):
    assert geometry.padding_px(128, "face", coverage) == expected


@pytest.mark.parametrize("coverage, expected", [(1.0, 384), (0.875, 336)])
def test_face_subcrop_side_from_a_512_head_face(coverage, expected):
    assert geometry.subcrop_side_px(512, "face", coverage) == expected


def test_head_subcrop_of_a_head_face_is_the_whole_face():
    assert geometry.subcrop_side_px(512, "head", 1.0) == 512


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
    head, legacy = face.matrix(256, "head"), face.matrix(256, "legacy")
    # the unit square spans S − 2·padding px: 256·(1 − 0.625) for head, 256·(1 − 0.375) legacy
    legacy_scale = geometry.matrix_scale(face.legacy_matrix)
    assert geometry.matrix_scale(head) == pytest.approx(96 * legacy_scale)
    assert geometry.matrix_scale(legacy) == pytest.approx(160 * legacy_scale)


def test_aligned_landmarks_follow_the_face_under_any_frame_similarity(landmarks):
    known = similarity(30.0, 1.3, (80.0, -20.0))
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    moved = AlignedFace("f.png", 0, 0, 0, 10, 10, geometry.transform_points(landmarks, known))
    np.testing.assert_allclose(moved.aligned_landmarks(128, "face", 0.875),
                               face.aligned_landmarks(128, "face", 0.875), atol=1e-3)


def _smooth_frame(height: int = 700, width: int = 800) -> np.ndarray:
    noise = np.random.default_rng(1).integers(0, 256, (height // 16, width // 16, 3), np.uint8)
    return cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)


def test_warp_out_then_paste_back_is_identity_inside_the_face(landmarks):
    frame = _smooth_frame()
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    matrix = face.matrix(256, "face")
    crop = geometry.warp_face(frame, matrix, 256)
    pasted = geometry.paste_face(np.zeros_like(frame), crop, matrix)
    inside = np.zeros(frame.shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, cv2.convexHull(landmarks.astype(np.int32)), 1)
    error = np.abs(pasted.astype(int) - frame.astype(int))[inside.astype(bool)]
    assert error.mean() < 3.0
    untouched = geometry.paste_face(frame, crop, matrix, np.zeros((256, 256), np.float32))
    np.testing.assert_array_equal(untouched, frame)


def test_face_subcrop_of_a_head_face_matches_a_direct_face_crop(landmarks):
    frame = _smooth_frame()
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    head = face.warp(frame, 512, "head")
    for coverage in (1.0, 0.875):
        side = geometry.subcrop_side_px(512, "face", coverage)
        sub = geometry.subcrop_face(head, face.pose_offsets, side, "face", coverage)
        direct = face.warp(frame, side, "face", coverage)
        margin = side // 8  # the head face's own border is zero-padded; compare the middle
        difference = np.abs(sub.astype(int) - direct.astype(int))[margin:-margin, margin:-margin]
        assert difference.mean() < 4.0
        sub_matrix = geometry.subcrop_matrix(face.matrix(512, "head"), 512, face.pose_offsets,
                                             side, "face", coverage)
        np.testing.assert_allclose(sub_matrix, face.matrix(side, "face", coverage), atol=1.0)


def test_subcrop_outside_the_head_face_is_zero():
    head = np.full((64, 64, 3), 200, np.uint8)
    offsets = {"legacy": np.zeros(2), "face": np.array([0.0, 2.0]), "head": np.zeros(2)}
    crop = geometry.subcrop_face(head, offsets, 48, "face")  # moved far down: mostly outside
    assert crop[-1].max() == 0 and crop.shape == (48, 48, 3)


def test_bad_inputs_are_named():
    with pytest.raises(ConfigError, match="'whole'"):
        geometry.padding_px(128, "whole")
    with pytest.raises(ConfigError, match="coverage"):
        geometry.padding_px(128, "face", 0.0)
    with pytest.raises(DataError, match="68"):
        geometry.legacy_matrix(np.zeros((5, 2)))
