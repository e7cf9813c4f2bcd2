"""Aligning matrices (legacy, pose, centred, padded) and the boxes of sub-crops, per `Framing`.

Matrices are 2×3 affine maps from frame pixels to face pixels. Every function that depends on
how a model frames its faces takes one `Framing` (centering, coverage, vertical offset); the
pixels themselves are cut and pasted by `phaze.faces.crop`.
"""
from __future__ import annotations

import cv2
import numpy as np

from phaze.errors import DataError
from phaze.faces.constants import alignment_constants
from phaze.faces.framing import HEAD_FRAMING, Framing

LANDMARK_COUNT = 68
LEGACY_POINTS = slice(17, 68)  # brows, nose, eyes, mouth: the jaw is too pose-dependent
# No frame within the image-area budget is this wide; larger values overflow the matrix maths.
MAX_COORDINATE_PX = 2.0**24


def check_landmarks(landmarks: np.ndarray) -> np.ndarray:
    """(68, 2) float64 copy of `landmarks`, or DataError when the shape or values are wrong."""
    points = np.asarray(landmarks, dtype=np.float64)
    if points.shape != (LANDMARK_COUNT, 2) or not np.isfinite(points).all():
        raise DataError(f"landmarks have shape {points.shape}: expected 68 finite (x, y) points")
    if np.abs(points).max() > MAX_COORDINATE_PX:
        raise DataError(f"landmarks reach {np.abs(points).max():.3g} px: expected coordinates "
                        f"within +-{MAX_COORDINATE_PX:.0f} px")
    return points


def umeyama(source: np.ndarray, target: np.ndarray, estimate_scale: bool = True) -> np.ndarray:
    """(3, 3) least-squares similarity transform taking `source` (N, 2) points onto `target`."""
    source, target = np.asarray(source, np.float64), np.asarray(target, np.float64)
    count, dims = source.shape
    source_mean, target_mean = source.mean(axis=0), target.mean(axis=0)
    source_centred, target_centred = source - source_mean, target - target_mean
    covariance = target_centred.T @ source_centred / count
    signs = np.ones(dims)
    if np.linalg.det(covariance) < 0:
        signs[-1] = -1  # a reflection would fit better: force a proper rotation instead
    u, singular, vt = np.linalg.svd(covariance)
    rank = np.linalg.matrix_rank(covariance)
    if rank == 0:
        raise DataError("landmarks are degenerate: all points coincide")
    if rank == dims - 1 and np.linalg.det(u) * np.linalg.det(vt) > 0:
        rotation = u @ vt
    elif rank == dims - 1:
        flipped = signs.copy()
        flipped[-1] = -1
        rotation = u @ np.diag(flipped) @ vt
    else:
        rotation = u @ np.diag(signs) @ vt
    variance = source_centred.var(axis=0).sum()
    scale = (singular * signs).sum() / variance if estimate_scale else 1.0
    matrix = np.eye(dims + 1)
    matrix[:dims, :dims] = scale * rotation
    matrix[:dims, dims] = target_mean - scale * rotation @ source_mean
    return matrix


def legacy_matrix(landmarks: np.ndarray) -> np.ndarray:
    """(2, 3) map from frame px into the unit square: landmarks 17–67 fitted to the mean face."""
    points = check_landmarks(landmarks)
    return umeyama(points[LEGACY_POINTS], alignment_constants().mean_face_51)[:2]


def transform_points(points: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """(N, 2) points mapped through a (2, 3) affine matrix."""
    points = np.asarray(points, np.float64)
    return points @ matrix[:, :2].T + matrix[:, 2]


def invert_matrix(matrix: np.ndarray) -> np.ndarray:
    """The (2, 3) inverse of a (2, 3) affine matrix."""
    return cv2.invertAffineTransform(np.asarray(matrix, np.float64))


def pose_offsets(landmarks: np.ndarray, legacy: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Centering → (2,) offset of its projected 3D centre from (0.5, 0.5), in unit-square units.

    solvePnP of the 26 core points (already in the unit square) against the 3D mean head; the
    legacy centering is the unit square itself, so its offset is zero (as in faceswap).
    """
    points = check_landmarks(landmarks)
    legacy = legacy_matrix(points) if legacy is None else legacy
    constants = alignment_constants()
    unit = transform_points(points, legacy)[list(constants.pose_core)]
    try:
        ok, rotation, translation = cv2.solvePnP(
            constants.mean_head_26.astype(np.float32), unit.astype(np.float32),
            constants.camera_matrix, constants.distortion, flags=cv2.SOLVEPNP_ITERATIVE)
    except cv2.error:
        ok = False
    if not ok:
        raise DataError("the head pose could not be estimated from these landmarks")
    offsets = {"legacy": np.zeros(2)}
    for centering in ("face", "head"):
        centre = constants.centres_3d[centering].reshape(1, 1, 3).astype(np.float32)
        projected, _ = cv2.projectPoints(centre, rotation, translation,
                                         constants.camera_matrix, constants.distortion)
        offsets[centering] = projected.reshape(2).astype(np.float64) - 0.5
    return offsets


def centred_matrix(legacy: np.ndarray, offsets: dict[str, np.ndarray],
                   framing: Framing) -> np.ndarray:
    """(2, 3) unit-square matrix centred on the framing's centering, moved by its offset."""
    shift = offsets[framing.centering] - np.array([0.0, framing.vertical_ratio])
    matrix = np.array(legacy, np.float64, copy=True)
    matrix[:, 2] -= shift
    return matrix


def padding_px(size_px: int, framing: Framing) -> int:
    """Padding per side of a face of `size_px`: round(S · (ratio + k − 1) / (2k))."""
    coverage = framing.coverage_ratio
    ratio = alignment_constants().padding_ratio[framing.centering]
    return int(round(size_px * (ratio + coverage - 1.0) / (2.0 * coverage)))


def crop_matrix(legacy: np.ndarray, offsets: dict[str, np.ndarray], size_px: int,
                framing: Framing = HEAD_FRAMING) -> np.ndarray:
    """(2, 3) frame px → face px for a face of side `size_px` with this framing."""
    padding = padding_px(size_px, framing)
    matrix = centred_matrix(legacy, offsets, framing) * (size_px - 2 * padding)
    matrix[:, 2] += padding
    return matrix


def matrix_scale(matrix: np.ndarray) -> float:
    """The isotropic scale of a similarity matrix (face px per frame px)."""
    return float(np.sqrt(abs(np.linalg.det(np.asarray(matrix)[:, :2]))))


# --- sub-crops out of a stored head-centred face -----------------------------------
def subcrop_side_px(head_size_px: int, framing: Framing) -> int:
    """Side of the framing's crop in a head face: 2·round(S·(1 − r_head)/(1 − r_c)·k / 2)."""
    ratios = alignment_constants().padding_ratio
    ratio = ratios[framing.centering]
    return 2 * int(round(head_size_px * (1 - ratios["head"]) / (1 - ratio)
                         * framing.coverage_ratio / 2))


def subcrop_centre_px(head_size_px: int, offsets: dict[str, np.ndarray],
                      framing: Framing) -> np.ndarray:
    """(x, y) centre of the framing's crop inside a head face of side `head_size_px`."""
    unit_px = head_size_px * (1 - alignment_constants().padding_ratio["head"])
    shift = (offsets[framing.centering] - offsets["head"]
             - np.array([0.0, framing.vertical_ratio]))
    return head_size_px / 2 + shift * unit_px


def subcrop_box(head_size_px: int, offsets: dict[str, np.ndarray],
                framing: Framing) -> tuple[int, int, int]:
    """(left, top, side) in head-face px of the sub-crop; it may reach outside the image."""
    side = subcrop_side_px(head_size_px, framing)
    centre = subcrop_centre_px(head_size_px, offsets, framing)
    left, top = (int(round(c - side / 2)) for c in centre)
    return left, top, side


def subcrop_matrix(head_matrix: np.ndarray, head_size_px: int, offsets: dict[str, np.ndarray],
                   size_px: int, framing: Framing) -> np.ndarray:
    """(2, 3) frame px → sub-crop px, given the head face's own frame → head px matrix."""
    left, top, side = subcrop_box(head_size_px, offsets, framing)
    matrix = np.array(head_matrix, np.float64, copy=True)
    matrix[:, 2] -= (left, top)
    return matrix * (size_px / side)


def central_box(height: int, width: int, framing: Framing) -> tuple[int, int, int]:
    """(top, left, side) of the centred square holding the framing's coverage of the shorter
    side: how faces without frame geometry (plain crops, DFL, synthetic) are framed."""
    side = max(1, int(round(min(height, width) * framing.coverage_ratio)))
    return (height - side) // 2, (width - side) // 2, side
