"""Head pose (yaw, pitch, roll in degrees) from 68 landmarks, with one stated sign convention.

Signs are in the picture's terms, as a user sees the face: yaw > 0 when the face turns towards
the image's right (its nose points right), pitch > 0 when it looks up, roll > 0 when the head
tilts clockwise on screen (its eye line descends to the right). A mirrored picture flips yaw
and roll and keeps pitch.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from phaze.errors import DataError
from phaze.faces import geometry
from phaze.faces.constants import alignment_constants


@dataclass(frozen=True)
class Pose:
    yaw: float
    pitch: float
    roll: float


def head_pose(landmarks: np.ndarray) -> Pose:
    """Pose of the face whose (68, 2) landmarks (any pixel frame: source or aligned) are given."""
    points = geometry.check_landmarks(landmarks)
    legacy = geometry.legacy_matrix(points)
    unit = geometry.transform_points(points, legacy)[list(alignment_constants().pose_core)]
    yaw, pitch = yaw_pitch_from_unit_points(unit)
    right_eye, left_eye = points[36:42].mean(0), points[42:48].mean(0)
    dx, dy = left_eye - right_eye
    return Pose(yaw, pitch, float(np.degrees(np.arctan2(dy, dx))))


def yaw_pitch_from_unit_points(unit_core: np.ndarray) -> tuple[float, float]:
    """Yaw and pitch (degrees) of the 26 pose-core points already in the legacy unit square."""
    rotation = _solve(unit_core)
    # The face's forward direction in camera coordinates (x right, y down, z away from the
    # camera): the 3D head faces the camera (-z) when unrotated.
    forward = rotation @ np.array([0.0, 0.0, -1.0])
    yaw = np.degrees(np.arctan2(forward[0], -forward[2]))
    pitch = np.degrees(np.arctan2(-forward[1], np.hypot(forward[0], forward[2])))
    return float(yaw), float(pitch)


def _solve(unit_core: np.ndarray) -> np.ndarray:
    constants = alignment_constants()
    # faceswap's 3D head has x towards the image's left, y up and the nose at +z; negated it
    # is in camera axes (x right, y down, z away from the camera, nose towards it), so an
    # unrotated head faces the camera. (Both give the same rotation, the other one with the head
    # behind the camera; this one keeps the meaning of "forward" plain.) SQPnP is a global
    # solver: no initial guess, no local minimum.
    head = -constants.mean_head_26
    ok, rotation_vector, _ = cv2.solvePnP(
        head.astype(np.float32), np.asarray(unit_core, np.float32),
        constants.camera_matrix, constants.distortion, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        raise DataError("the head pose could not be estimated from these landmarks")
    return cv2.Rodrigues(rotation_vector)[0]

