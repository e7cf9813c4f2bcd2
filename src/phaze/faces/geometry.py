"""Aligning matrices (legacy, pose, centred, padded), crops out of frames and back.

Matrices are 2×3 affine maps from frame pixels to face pixels. Coverage and vertical offset are
fractions here (1.0, 0.0); `Framing` holds the user-facing percentages.
"""
from __future__ import annotations

import cv2
import numpy as np

from phaze.errors import ConfigError, DataError
from phaze.faces.constants import CENTERINGS, alignment_constants

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


def check_centering(centering: str) -> str:
    """`centering` itself when it is legacy, face or head, else a ConfigError naming it."""
    return CENTERINGS.check(centering)


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


def centred_matrix(legacy: np.ndarray, offsets: dict[str, np.ndarray], centering: str,
                   vertical_offset: float = 0.0) -> np.ndarray:
    """(2, 3) unit-square matrix centred on `centering`; `vertical_offset` (fraction) moves it."""
    shift = offsets[check_centering(centering)] - np.array([0.0, vertical_offset])
    matrix = np.array(legacy, np.float64, copy=True)
    matrix[:, 2] -= shift
    return matrix


def padding_px(size_px: int, centering: str, coverage: float = 1.0) -> int:
    """Padding per side of a face of `size_px`: round(S · (ratio + k − 1) / (2k))."""
    _check_coverage(coverage)
    ratio = alignment_constants().padding_ratio[check_centering(centering)]
    return int(round(size_px * (ratio + coverage - 1.0) / (2.0 * coverage)))


def _check_coverage(coverage: float) -> None:
    if not 0.0 < coverage <= 1.0:
        raise ConfigError(f"coverage {coverage!r} is invalid: expected a fraction in (0, 1]")


def crop_matrix(legacy: np.ndarray, offsets: dict[str, np.ndarray], size_px: int,
                centering: str = "head", coverage: float = 1.0,
                vertical_offset: float = 0.0) -> np.ndarray:
    """(2, 3) frame px → face px for a face of side `size_px` with this framing."""
    padding = padding_px(size_px, centering, coverage)
    matrix = centred_matrix(legacy, offsets, centering, vertical_offset) * (size_px - 2 * padding)
    matrix[:, 2] += padding
    return matrix


def matrix_scale(matrix: np.ndarray) -> float:
    """The isotropic scale of a similarity matrix (face px per frame px)."""
    return float(np.sqrt(abs(np.linalg.det(np.asarray(matrix)[:, :2]))))


def _interpolation(scale: float) -> int:
    # Enlarging: cubic keeps edges; shrinking: area averages away aliasing (faceswap does both).
    return cv2.INTER_CUBIC if scale > 1.0 else cv2.INTER_AREA


def warp_face(frame: np.ndarray, matrix: np.ndarray, size_px: int) -> np.ndarray:
    """The (size, size[, C]) face cut out of `frame` by `matrix`; outside the frame is zero."""
    return cv2.warpAffine(frame, np.asarray(matrix, np.float64), (size_px, size_px),
                          flags=_interpolation(matrix_scale(matrix)),
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def warp_to_frame(face: np.ndarray, matrix: np.ndarray,
                  frame_shape: tuple[int, ...]) -> np.ndarray:
    """`face` (cut by `matrix`) warped back onto a zero canvas of the frame's height and width."""
    height, width = frame_shape[:2]
    scale = matrix_scale(matrix)
    flags = _interpolation(1.0 / scale if scale else 1.0) | cv2.WARP_INVERSE_MAP
    return cv2.warpAffine(face, np.asarray(matrix, np.float64), (width, height), flags=flags,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)


def paste_face(frame: np.ndarray, face: np.ndarray, matrix: np.ndarray,
               mask: np.ndarray | None = None) -> np.ndarray:
    """A copy of `frame` with `face` alpha-blended back in under `mask` (float 0..1, face px).

    Without a mask the whole face square is pasted. Pixels outside the mask are untouched.
    """
    if mask is None:
        mask = np.ones(face.shape[:2], np.float32)
    alpha = warp_to_frame(np.asarray(mask, np.float32), matrix, frame.shape)
    alpha = np.clip(alpha, 0.0, 1.0)[..., None] if frame.ndim == 3 else np.clip(alpha, 0, 1)
    warped = warp_to_frame(face, matrix, frame.shape).astype(np.float32)
    blended = frame.astype(np.float32) * (1.0 - alpha) + warped * alpha
    if np.issubdtype(frame.dtype, np.integer):
        blended = np.clip(np.rint(blended), 0, np.iinfo(frame.dtype).max)
    return blended.astype(frame.dtype)


# --- sub-crops out of a stored head-centred face -----------------------------------
def subcrop_side_px(head_size_px: int, centering: str, coverage: float = 1.0) -> int:
    """Side of a `centering` crop in a head face: 2·round(S·(1 − r_head)/(1 − r_c)·k / 2)."""
    _check_coverage(coverage)
    ratios = alignment_constants().padding_ratio
    ratio = ratios[check_centering(centering)]
    return 2 * int(round(head_size_px * (1 - ratios["head"]) / (1 - ratio) * coverage / 2))


def subcrop_centre_px(head_size_px: int, offsets: dict[str, np.ndarray], centering: str,
                      vertical_offset: float = 0.0) -> np.ndarray:
    """(x, y) centre of the `centering` crop inside a head face of side `head_size_px`."""
    unit_px = head_size_px * (1 - alignment_constants().padding_ratio["head"])
    shift = (offsets[check_centering(centering)] - offsets["head"]
             - np.array([0.0, vertical_offset]))
    return head_size_px / 2 + shift * unit_px


def subcrop_box(head_size_px: int, offsets: dict[str, np.ndarray], centering: str,
                coverage: float = 1.0, vertical_offset: float = 0.0) -> tuple[int, int, int]:
    """(left, top, side) in head-face px of the sub-crop; it may reach outside the image."""
    side = subcrop_side_px(head_size_px, centering, coverage)
    centre = subcrop_centre_px(head_size_px, offsets, centering, vertical_offset)
    left, top = (int(round(c - side / 2)) for c in centre)
    return left, top, side


def subcrop_face(head_face: np.ndarray, offsets: dict[str, np.ndarray], size_px: int,
                 centering: str = "face", coverage: float = 1.0,
                 vertical_offset: float = 0.0) -> np.ndarray:
    """The `centering` crop of a stored head-centred face, resized to `size_px`.

    Out-of-bounds areas are zero; CUBIC when enlarging, AREA when shrinking.
    """
    height, width = head_face.shape[:2]
    if height != width:
        raise DataError(f"head face is {width}×{height} px: expected a square image")
    left, top, side = subcrop_box(height, offsets, centering, coverage, vertical_offset)
    crop = np.zeros((side, side) + head_face.shape[2:], head_face.dtype)
    src_x0, src_y0 = max(left, 0), max(top, 0)
    src_x1, src_y1 = min(left + side, width), min(top + side, height)
    if src_x1 > src_x0 and src_y1 > src_y0:
        crop[src_y0 - top:src_y1 - top, src_x0 - left:src_x1 - left] = \
            head_face[src_y0:src_y1, src_x0:src_x1]
    if side == size_px:
        return crop
    interpolation = cv2.INTER_CUBIC if size_px > side else cv2.INTER_AREA
    return cv2.resize(crop, (size_px, size_px), interpolation=interpolation)


def subcrop_matrix(head_matrix: np.ndarray, head_size_px: int, offsets: dict[str, np.ndarray],
                   size_px: int, centering: str = "face", coverage: float = 1.0,
                   vertical_offset: float = 0.0) -> np.ndarray:
    """(2, 3) frame px → sub-crop px, given the head face's own frame → head px matrix."""
    left, top, side = subcrop_box(head_size_px, offsets, centering, coverage, vertical_offset)
    matrix = np.array(head_matrix, np.float64, copy=True)
    matrix[:, 2] -= (left, top)
    return matrix * (size_px / side)
