"""Training augmentation of one face: colour, affine, flip, then warp of the
input. Masks and landmarks follow every geometric step."""
from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from phaze.data.landmark_warp import warp_to_landmarks
from phaze.data.settings import AugmentConfig
from phaze.faces.geometry import transform_points

_WARP_GRID_POINTS = 5  # control points per side of the warp grid
_WARP_SIGMA_PER_PX = 5.0 / 256.0  # control point displacement std, per pixel of image size
_WARP_MAP_OVERSIZE = 1.25  # the dense map is built larger and centre-cropped: edges move too
_CLAHE_CLIP_LIMIT = 2.0


class Example(NamedTuple):
    """One training example, float32 in [0, 1] (landmarks in px of the output size)."""

    inputs: np.ndarray                # (3, S, S) warped face for the encoder
    target: np.ndarray                # (3, R, R)
    masks: np.ndarray | None          # (K, R, R) the mask planes given, moved with the face
    landmarks: np.ndarray | None      # (68, 2) float32, R px


# The iBUG-68 index each point takes in a mirrored face (jaw, brows, nose, eyes, mouth swap sides).
FLIP_68 = np.array(
    list(range(16, -1, -1)) + list(range(26, 16, -1)) + [27, 28, 29, 30] +
    [35, 34, 33, 32, 31] + [45, 44, 43, 42, 47, 46] + [39, 38, 37, 36, 41, 40] +
    list(range(54, 47, -1)) + [59, 58, 57, 56, 55] + [64, 63, 62, 61, 60] + [67, 66, 65])


# --- public entry points ------------------------------------------------------------------------

def augment_pair(face: np.ndarray, masks: np.ndarray | None, input_size: int, output_size: int,
                 config: AugmentConfig, rng: np.random.Generator,
                 landmarks: np.ndarray | None = None,
                 warp_destination: np.ndarray | None = None) -> Example:
    """One training example from a uint8 RGB face (H, W, 3) at the working size.

    `masks` (H, W) or (H, W, K) uint8 planes (face mask, eye and mouth areas) and `landmarks`
    (68, 2) px follow every geometric step of the face. `warp_destination` (68, 2): where
    `config.warp_to_landmarks` bends the input's landmarks to.
    """
    working = max(input_size, output_size)
    face, masks, landmarks = _to_size(face, masks, landmarks, working)
    if config.color:
        face = jitter_colour(face, config, rng)
    face, masks, landmarks = random_affine(face, masks, landmarks, config, rng)
    if config.flip and rng.random() < config.flip_chance / 100.0:
        face, masks, landmarks = flip_face(face, masks, landmarks)
    target = _resize(face, output_size)
    if config.warp_to_landmarks and landmarks is not None and warp_destination is not None:
        warped = warp_to_landmarks(face, landmarks, warp_destination, rng)
    else:
        warped = random_warp(face, rng) if config.warp else face
    return Example(_to_chw(_resize(warped, input_size)), _to_chw(target),
                   _to_chw(_resize(masks, output_size)),
                   _scale_points(landmarks, output_size / working))


def prepare_plain(face: np.ndarray, masks: np.ndarray | None, input_size: int, output_size: int,
                  landmarks: np.ndarray | None = None) -> Example:
    """`augment_pair` without any randomness (previews): the same resizes."""
    working = max(input_size, output_size)
    face, masks, landmarks = _to_size(face, masks, landmarks, working)
    return Example(_to_chw(_resize(face, input_size)), _to_chw(_resize(face, output_size)),
                   _to_chw(_resize(masks, output_size)),
                   _scale_points(landmarks, output_size / working))


# --- steps --------------------------------------------------------------------------------------

def jitter_colour(face: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Random per-channel L*a*b* shift towards 0 or 255, then CLAHE on L* by chance."""
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2LAB)
    limits = np.array([config.color_lightness, config.color_ab, config.color_ab]) / 100.0
    factors = rng.uniform(-limits, limits).astype(np.float32)  # one per channel
    lab = cv2.LUT(lab, colour_shift_table(factors))
    if rng.random() < config.color_clahe_chance / 100.0:
        base = max(2, face.shape[0] // 128)
        grid = base + int(rng.integers(0, config.color_clahe_max_size + 1)) * (base // 2)
        clahe = cv2.createCLAHE(clipLimit=_CLAHE_CLIP_LIMIT, tileGridSize=(grid, grid))
        lab[..., 0] = clahe.apply(np.ascontiguousarray(lab[..., 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def colour_shift_table(factors: np.ndarray) -> np.ndarray:
    """(256, 1, 3) uint8 lookup table: per channel, a positive factor moves a value that fraction
    of the way to 255, a negative one towards 0.

    The shift depends only on the 8-bit value, so it is computed for the 256 values once, not
    for every pixel (at 256 px that per-pixel float work was the loader's largest cost).
    """
    values = np.arange(256, dtype=np.float32)[:, None]
    shifted = np.where(factors > 0, values + (255.0 - values) * factors,
                       values * (1.0 + factors))
    return np.clip(np.rint(shifted), 0, 255).astype(np.uint8)[:, None, :]


def random_affine(face: np.ndarray, masks: np.ndarray | None, landmarks: np.ndarray | None,
                  config: AugmentConfig, rng: np.random.Generator,
                  ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """The same random rotation, zoom and shift for face, masks and landmarks; edges replicated."""
    if config.rotation_range == 0 and config.zoom_amount == 0 and config.shift_range == 0:
        return face, masks, landmarks  # skip the resampling: with nothing to do it would blur
    size = face.shape[0]
    angle = rng.uniform(-config.rotation_range, config.rotation_range)
    scale = rng.uniform(1.0 - config.zoom_amount / 100.0, 1.0 + config.zoom_amount / 100.0)
    shift = rng.uniform(-config.shift_range, config.shift_range, size=2) / 100.0 * size
    centre = ((size - 1) / 2.0, (size - 1) / 2.0)
    matrix = cv2.getRotationMatrix2D(centre, angle, scale)
    matrix[:, 2] += shift

    def apply(image: np.ndarray) -> np.ndarray:
        return cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR,
                              borderMode=cv2.BORDER_REPLICATE)

    moved = None if landmarks is None else transform_points(landmarks, matrix).astype(np.float32)
    return apply(face), (None if masks is None else _planes(apply(masks), masks.shape)), moved


def flip_face(face: np.ndarray, masks: np.ndarray | None, landmarks: np.ndarray | None,
              ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Mirror left-right; landmarks are mirrored and renumbered so a left eye stays a left eye."""
    flipped = None
    if landmarks is not None:
        flipped = landmarks[FLIP_68].copy()
        flipped[:, 0] = face.shape[1] - 1 - flipped[:, 0]
    return (np.ascontiguousarray(face[:, ::-1]),
            None if masks is None else np.ascontiguousarray(masks[:, ::-1]), flipped)


def random_warp(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Smoothly displace a 5×5 grid of control points and resample the image through it."""
    size = image.shape[0]
    points = _WARP_GRID_POINTS
    offsets = rng.normal(0.0, _WARP_SIGMA_PER_PX * size, size=(2, points, points))
    big = int(round(size * _WARP_MAP_OVERSIZE))
    start = (big - size) // 2
    # (2, 5, 5) control-point offsets -> (2, size, size) dense per-pixel offsets
    dense = [cv2.resize(o.astype(np.float32), (big, big), interpolation=cv2.INTER_LINEAR)
             [start:start + size, start:start + size] for o in offsets]
    pixels = np.arange(size, dtype=np.float32)
    map_x = pixels[None, :] + dense[0]
    map_y = pixels[:, None] + dense[1]
    return cv2.remap(image, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


# --- helpers ------------------------------------------------------------------------------------

def _to_size(face: np.ndarray, masks: np.ndarray | None, landmarks: np.ndarray | None,
             size: int) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """Everything at `size` (faces from a FaceSet already are)."""
    scale = size / face.shape[0]
    return _resize(face, size), _resize(masks, size), _scale_points(landmarks, scale)


def _scale_points(points: np.ndarray | None, scale: float) -> np.ndarray | None:
    if points is None or scale == 1.0:
        return points
    # Pixel centres scale about -0.5: px x covers [x - 0.5, x + 0.5).
    return ((points + 0.5) * scale - 0.5).astype(np.float32)


def _planes(moved: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    # cv2 drops the channel axis of a one-channel (H, W, 1) image.
    return moved.reshape(shape)


def _resize(image: np.ndarray | None, size: int) -> np.ndarray | None:
    if image is None or image.shape[0] == size and image.shape[1] == size:
        return image
    return _planes(cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA),
                   (size, size) + image.shape[2:])


def _to_chw(image: np.ndarray | None) -> np.ndarray | None:
    """uint8 (H, W, C) or (H, W) -> float32 (C, H, W) in [0, 1]."""
    if image is None:
        return None
    if image.ndim == 2:
        image = image[..., None]
    return np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / np.float32(255.0)
