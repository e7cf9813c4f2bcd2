"""Training augmentation of one face (spec §11): colour, affine, flip, then warp of the input."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

_WARP_GRID_POINTS = 5  # control points per side of the warp grid
_WARP_SIGMA_PER_PX = 5.0 / 256.0  # control point displacement std, per pixel of image size
_WARP_MAP_OVERSIZE = 1.25  # the dense map is built larger and centre-cropped: edges move too
_CLAHE_CLIP_LIMIT = 2.0


@dataclass(frozen=True)
class AugmentConfig:
    """faceswap's augmentation options and defaults; amounts are percent, angles degrees."""

    rotation_range: float = 10.0  # rotation uniform in ± this many degrees
    zoom_amount: float = 5.0  # scale uniform in 1 ± this %
    shift_range: float = 5.0  # translation uniform in ± this % of the size, per axis
    flip_chance: float = 50.0  # % chance of a horizontal flip
    color_lightness: float = 30.0  # L* factor uniform in ± this %
    color_ab: float = 8.0  # a* and b* factors uniform in ± this %
    color_clahe_chance: float = 50.0  # % chance of CLAHE on L*
    color_clahe_max_size: int = 4  # CLAHE grid grows by up to this many half-base steps
    warp: bool = True
    color: bool = True
    flip: bool = True
    coverage: float = 100.0  # % of the face (centre crop) that the model sees

    def __post_init__(self) -> None:
        if not 0.0 < self.coverage <= 100.0:
            raise ValueError(f"coverage must be in (0, 100] %, got {self.coverage}.")
        for name in ("flip_chance", "color_clahe_chance"):
            if not 0.0 <= getattr(self, name) <= 100.0:
                raise ValueError(f"{name} must be in [0, 100] %, got {getattr(self, name)}.")


# --- public entry points ------------------------------------------------------------------------

def augment_pair(face: np.ndarray, mask: np.ndarray | None, input_size: int, output_size: int,
                 config: AugmentConfig, rng: np.random.Generator,
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """One training example from a uint8 RGB face (H, W, 3) and optional uint8 mask (H, W).

    Returns the warped input (3, S, S), the target (3, R, R) and mask (1, R, R) or None, all
    float32 in [0, 1], where S = `input_size` and R = `output_size`.
    """
    face, mask = _to_working_size(face, mask, input_size, output_size, config.coverage)
    if config.color:
        face = jitter_colour(face, config, rng)
    face, mask = random_affine(face, mask, config, rng)
    if config.flip and rng.random() < config.flip_chance / 100.0:
        face, mask = cv2.flip(face, 1), (None if mask is None else cv2.flip(mask, 1))
    target, target_mask = _resize(face, output_size), _resize(mask, output_size)
    warped = random_warp(face, rng) if config.warp else face
    return _to_chw(_resize(warped, input_size)), _to_chw(target), _to_chw(target_mask)


def prepare_plain(face: np.ndarray, mask: np.ndarray | None, input_size: int, output_size: int,
                  coverage: float = 100.0) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """`augment_pair` without any randomness (previews, swapping): the same crop and resizes."""
    face, mask = _to_working_size(face, mask, input_size, output_size, coverage)
    return (_to_chw(_resize(face, input_size)), _to_chw(_resize(face, output_size)),
            _to_chw(_resize(mask, output_size)))


# --- steps --------------------------------------------------------------------------------------

def crop_coverage(image: np.ndarray | None, coverage: float) -> np.ndarray | None:
    """The centred square holding `coverage` % of the image's side."""
    if image is None or coverage >= 100.0:
        return image
    size = image.shape[0]
    crop = max(1, int(round(size * coverage / 100.0)))
    start = (size - crop) // 2
    return image[start:start + crop, start:start + crop]


def jitter_colour(face: np.ndarray, config: AugmentConfig, rng: np.random.Generator) -> np.ndarray:
    """Random per-channel L*a*b* shift towards 0 or 255, then CLAHE on L* by chance."""
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float32)
    limits = np.array([config.color_lightness, config.color_ab, config.color_ab]) / 100.0
    factors = rng.uniform(-limits, limits).astype(np.float32)  # one per channel
    # A positive factor moves a value that fraction of the way to 255, a negative one towards 0.
    lab = np.where(factors > 0, lab + (255.0 - lab) * factors, lab * (1.0 + factors))
    lab = np.clip(np.rint(lab), 0, 255).astype(np.uint8)
    if rng.random() < config.color_clahe_chance / 100.0:
        base = max(2, face.shape[0] // 128)
        grid = base + int(rng.integers(0, config.color_clahe_max_size + 1)) * (base // 2)
        clahe = cv2.createCLAHE(clipLimit=_CLAHE_CLIP_LIMIT, tileGridSize=(grid, grid))
        lab[..., 0] = clahe.apply(np.ascontiguousarray(lab[..., 0]))
    return cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)


def random_affine(face: np.ndarray, mask: np.ndarray | None, config: AugmentConfig,
                  rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray | None]:
    """The same random rotation, zoom and shift for face and mask; edge pixels replicated."""
    if config.rotation_range == 0 and config.zoom_amount == 0 and config.shift_range == 0:
        return face, mask  # skip the resampling: with nothing to do it would only blur
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

    return apply(face), (None if mask is None else apply(mask))


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

def _to_working_size(face: np.ndarray, mask: np.ndarray | None, input_size: int,
                     output_size: int, coverage: float) -> tuple[np.ndarray, np.ndarray | None]:
    """Coverage crop, then resize to max(input, output): augmentation happens at that size."""
    working = max(input_size, output_size)
    return (_resize(crop_coverage(face, coverage), working),
            _resize(crop_coverage(mask, coverage), working))


def _resize(image: np.ndarray | None, size: int) -> np.ndarray | None:
    if image is None or image.shape[0] == size and image.shape[1] == size:
        return image
    return cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)


def _to_chw(image: np.ndarray | None) -> np.ndarray | None:
    """uint8 (H, W, C) or (H, W) -> float32 (C, H, W) in [0, 1]."""
    if image is None:
        return None
    if image.ndim == 2:
        image = image[..., None]
    return np.ascontiguousarray(image.transpose(2, 0, 1), dtype=np.float32) / np.float32(255.0)
