"""The one crop and the one paste: round trips, the named warp styles, stored-face cuts."""
from __future__ import annotations

import cv2
import numpy as np

from phaze.faces.aligned import AlignedFace
from phaze.faces.crop import (ALIGNED, CONVERT, central_crop, crop, paste, scale_matrix,
                              stored_face_cut)
from phaze.faces.framing import Framing


def smooth_frame(height: int = 700, width: int = 800) -> np.ndarray:
    noise = np.random.default_rng(1).integers(0, 256, (height // 16, width // 16, 3), np.uint8)
    return cv2.resize(noise, (width, height), interpolation=cv2.INTER_CUBIC)


def inside_face(landmarks: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    inside = np.zeros(shape[:2], np.uint8)
    cv2.fillConvexPoly(inside, cv2.convexHull(landmarks.astype(np.int32)), 1)
    return inside.astype(bool)


def test_a_face_cropped_then_pasted_back_restores_the_frame_inside_the_face(landmarks):
    frame = smooth_frame()
    matrix = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks).matrix(256, Framing("face"))
    for style in (ALIGNED, CONVERT):
        face = crop(frame, matrix, 256, style).astype(np.float32) / 255.0
        pasted = paste(np.zeros_like(frame), face, None, matrix, style)
        error = np.abs(pasted.astype(int) - frame.astype(int))[inside_face(landmarks, frame.shape)]
        assert error.mean() < 3.0


def test_paste_changes_only_the_pixels_its_mask_touches(landmarks):
    frame = smooth_frame()
    matrix = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks).matrix(128, Framing("face"))
    white = np.ones((128, 128, 3), np.float32)
    untouched = paste(frame.copy(), white, np.zeros((128, 128), np.float32), matrix)
    np.testing.assert_array_equal(untouched, frame)
    half = np.zeros((128, 128), np.float32)
    half[:, :64] = 1.0   # the left half of the face only
    pasted = paste(frame.copy(), white, half, matrix)
    changed = (pasted != frame).any(axis=2)
    right_half_centre = cv2.invertAffineTransform(matrix) @ np.array([100.0, 64.0, 1.0])
    assert changed.any() and not changed[int(right_half_centre[1]), int(right_half_centre[0])]


def test_paste_is_in_place_and_a_face_outside_the_frame_changes_nothing():
    frame = np.full((50, 60, 3), 7, np.uint8)
    far_away = np.array([[1.0, 0.0, 500.0], [0.0, 1.0, 500.0]])   # the face is 500 px off
    result = paste(frame, np.ones((32, 32, 3), np.float32), None, far_away)
    assert result is frame and (frame == 7).all()


def test_convert_repeats_the_frame_edge_where_aligned_crops_are_zero():
    frame = np.full((40, 40, 3), 200, np.uint8)
    beyond_the_left_edge = np.array([[1.0, 0.0, 20.0], [0.0, 1.0, 0.0]])   # face x = frame x + 20
    assert crop(frame, beyond_the_left_edge, 32, ALIGNED)[:, :20].max() == 0
    assert (crop(frame, beyond_the_left_edge, 32, CONVERT) == 200).all()


def test_aligned_crops_enlarge_with_cubic_and_shrink_with_area():
    assert ALIGNED.flags(2.0) == cv2.INTER_CUBIC and ALIGNED.flags(0.5) == cv2.INTER_AREA
    assert CONVERT.flags(2.0) == CONVERT.flags(0.5) == cv2.INTER_LINEAR


def test_a_matrix_scaled_to_another_size_puts_every_landmark_at_the_same_place(landmarks):
    from phaze.faces.geometry import transform_points

    matrix = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks).matrix(64, Framing("face"))
    small = transform_points(landmarks, matrix)
    large = transform_points(landmarks, scale_matrix(matrix, 64, 256))
    np.testing.assert_allclose(large, small * 4.0, atol=1e-9)


def test_a_plain_crop_is_cut_to_the_coverage_around_its_middle_with_its_landmarks():
    image = np.zeros((120, 80, 3), np.uint8)
    image[60, 40] = 255                      # a dot at the middle, where a landmark is
    framing = Framing(coverage=75.0)         # 60 px of the 80 px side
    assert central_crop(image, framing).shape == (60, 60, 3)
    cut = stored_face_cut(image, None, framing, 30)
    points = np.tile([40.0, 60.0], (68, 1))
    face, moved = cut.plane(image), cut.landmarks(points)
    dot = np.unravel_index(face[..., 0].argmax(), face.shape[:2])
    np.testing.assert_allclose(moved[0], (dot[1], dot[0]), atol=1.0)
    assert face.shape == (30, 30, 3) and cut.landmarks(None) is None


def test_a_stored_mask_of_another_size_is_cut_like_its_face(landmarks):
    face = AlignedFace("f.png", 0, 0, 0, 10, 10, landmarks)
    head = face.warp(smooth_frame(), 256)
    mask = np.full((128, 128), 255, np.uint8)     # stored at half the face's size
    cut = stored_face_cut(head, face, Framing("face"), 64)
    assert cut.plane(head).shape == (64, 64, 3) and cut.plane(mask).shape == (64, 64)
    assert cut.plane(mask).min() == 255          # the face crop lies inside the head face
