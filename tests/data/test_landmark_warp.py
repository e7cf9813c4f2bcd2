"""Warp to landmarks: landmarks move to their destinations; same points change nothing."""
from __future__ import annotations

import numpy as np

from phaze.data.landmark_warp import nearest_faces, warp_to_landmarks


def _points(shift: float = 0.0) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    return np.stack([32 + 20 * np.cos(angles) + shift, 32 + 20 * np.sin(angles)], 1)


def test_warp_with_identical_points_is_the_identity(gradient_face) -> None:
    warped = warp_to_landmarks(gradient_face, _points(), _points())
    np.testing.assert_array_equal(warped, gradient_face)


def test_warp_moves_a_landmark_to_its_destination() -> None:
    image = np.zeros((64, 64), np.uint8)
    image[30:35, 50:55] = 255  # a blob around the landmark at (52, 32)
    warped = warp_to_landmarks(image, _points(), _points(shift=-4.0))
    rows, cols = np.nonzero(warped > 128)
    assert abs(cols.mean() - 48.0) < 1.0 and abs(rows.mean() - 32.0) < 1.0


def test_nearest_faces_orders_by_landmark_distance() -> None:
    faces = np.stack([_points(0.0)])
    others = np.stack([_points(5.0), _points(0.5), _points(-2.0)])
    assert nearest_faces(faces, others, count=2).tolist() == [[1, 2]]
