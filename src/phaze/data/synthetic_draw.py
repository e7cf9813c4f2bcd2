"""Draws one stylised synthetic face (and its mask) with antialiased cv2 polygons."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np

if TYPE_CHECKING:  # only for annotations: synthetic.py imports this module
    from phaze.data.synthetic import SyntheticIdentity

RGB = tuple[int, int, int]
# cv2 fixed-point shift: polygon corners land on 1/16 px, so small faces stay smooth.
_SUBPIXEL_BITS = 4
_EYE_Y = -0.08
_MOUTH_Y = 0.5


@dataclass(frozen=True)
class FaceVariation:
    """What changes from one picture of a person to the next (same distributions for everyone)."""

    roll_deg: float  # in-plane rotation
    yaw: float  # -1..1: features slide sideways as if the head turned
    scale: float
    shift: tuple[float, float]  # translation as a fraction of the image size
    mouth_open: float  # 0..1
    smile: float  # < 0 frown, > 0 smile
    brow_raise: float  # 0..1
    eye_open: float  # 0 = closed (blink) .. 1 = wide open
    light_angle: float  # direction of the lighting gradient, radians
    light_strength: float  # 0 = flat lighting
    brightness: float
    background_rgb: tuple[RGB, RGB, RGB]  # gradient start, end, and a blob colour
    background_angle: float
    skin_jitter: tuple[float, float, float]  # small per-picture tint (make-up, white balance)
    noise_seed: int  # background blob placement and sensor noise


def draw_face(person: SyntheticIdentity, variation: FaceVariation, size_px: int) -> np.ndarray:
    """A (size, size, 3) uint8 RGB picture of `person` under `variation`."""
    rng = np.random.default_rng(variation.noise_seed)
    canvas = _background(variation, size_px, rng)
    to_px = _pose_transform(variation, size_px)
    skin = np.clip(np.array(person.skin_rgb) * variation.skin_jitter, 0, 255)
    _draw_head(canvas, to_px, person, variation, skin)
    _draw_features(canvas, to_px, person, variation, skin, size_px)
    return _apply_lighting(canvas, variation, rng)


def draw_face_mask(person: SyntheticIdentity, variation: FaceVariation, size_px: int) -> np.ndarray:
    """A (size, size) uint8 mask of the face oval (255 = face) matching `draw_face`."""
    mask = np.zeros((size_px, size_px), dtype=np.uint8)
    _fill(mask, _pose_transform(variation, size_px)(_face_outline(person)), 255)
    return mask


# --- geometry -----------------------------------------------------------------------------------

def _pose_transform(variation: FaceVariation, size_px: int):
    """Maps face coordinates (half-heights, y down, origin at the face centre) to pixels."""
    half_height_px = 0.36 * size_px * variation.scale
    angle = np.radians(variation.roll_deg)
    rotation = half_height_px * np.array([[np.cos(angle), -np.sin(angle)],
                                          [np.sin(angle), np.cos(angle)]])
    centre = size_px * (np.array([0.5, 0.53]) + np.array(variation.shift))
    return lambda points: points @ rotation.T + centre


def _ellipse(cx: float, cy: float, rx: float, ry: float, count: int = 40) -> np.ndarray:
    t = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
    return np.stack([cx + rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


def _face_outline(person: SyntheticIdentity, count: int = 72) -> np.ndarray:
    t = np.linspace(0.0, 2 * np.pi, count, endpoint=False)
    lower_half = np.clip(np.sin(t), 0.0, None)  # taper only the jaw, not the forehead
    x = person.face_width * np.cos(t) * (1.0 - person.jaw_taper * lower_half**2)
    return np.stack([x, np.sin(t)], axis=1)


def _fixed_point(points_px: np.ndarray) -> np.ndarray:
    return np.round(points_px * (1 << _SUBPIXEL_BITS)).astype(np.int32)


def _fill(canvas: np.ndarray, points_px: np.ndarray, colour) -> None:
    colour = colour if np.isscalar(colour) else tuple(float(c) for c in colour)
    cv2.fillPoly(canvas, [_fixed_point(points_px)], colour, cv2.LINE_AA, shift=_SUBPIXEL_BITS)


def _line(canvas: np.ndarray, points_px: np.ndarray, colour, size_px: int) -> None:
    thickness = max(1, round(size_px / 110))
    cv2.polylines(canvas, [_fixed_point(points_px)], False, tuple(float(c) for c in colour),
                  thickness, cv2.LINE_AA, shift=_SUBPIXEL_BITS)


# --- scene --------------------------------------------------------------------------------------

def _unit_grid(size_px: int) -> tuple[np.ndarray, np.ndarray]:
    axis = np.linspace(-1.0, 1.0, size_px, dtype=np.float32)
    return axis[None, :], axis[:, None]


def _background(variation: FaceVariation, size_px: int, rng: np.random.Generator) -> np.ndarray:
    xs, ys = _unit_grid(size_px)
    along = np.cos(variation.background_angle) * xs + np.sin(variation.background_angle) * ys
    weight = np.clip((along + 1.0) / 2.0, 0.0, 1.0)[..., None]  # (H, W, 1)
    start, end, blob = (np.array(c, dtype=np.float32) for c in variation.background_rgb)
    canvas = (start * (1.0 - weight) + end * weight).astype(np.uint8)
    centre = rng.uniform(0, size_px, size=2)
    radii = rng.uniform(0.1, 0.35, size=2) * size_px
    _fill(canvas, _ellipse(*centre, *radii), blob)
    return canvas


def _apply_lighting(canvas: np.ndarray, variation: FaceVariation,
                    rng: np.random.Generator) -> np.ndarray:
    xs, ys = _unit_grid(canvas.shape[0])
    along = (np.cos(variation.light_angle) * xs + np.sin(variation.light_angle) * ys) / np.sqrt(2)
    gain = variation.brightness * (1.0 + variation.light_strength * along)[..., None]
    noise = rng.standard_normal(canvas.shape, dtype=np.float32) * 3.0
    return np.clip(canvas * gain + noise, 0, 255).astype(np.uint8)


# --- head ---------------------------------------------------------------------------------------

def _draw_head(canvas, to_px, person: SyntheticIdentity, variation: FaceVariation,
               skin: np.ndarray) -> None:
    length = person.hair_length
    _fill(canvas, to_px(_ellipse(0.0, -0.08 + 0.45 * length,
                                 person.face_width + 0.1 + 0.18 * length, 1.02 + 0.5 * length)),
          person.hair_rgb)
    neck = person.face_width * 0.45
    _fill(canvas, to_px(np.array([[-neck, 0.4], [neck, 0.4], [neck * 1.3, 3.0],
                                  [-neck * 1.3, 3.0]])), skin * 0.8)
    for side in (-1.0, 1.0):
        # The ear on the side the head turns away from looks smaller.
        ear_scale = 1.0 - 0.35 * variation.yaw * side
        _fill(canvas, to_px(_ellipse(side * person.face_width * 0.98, -0.02,
                                     0.09 * ear_scale, 0.18)), skin * 0.88)
    _fill(canvas, to_px(_face_outline(person)), skin)
    _fill(canvas, to_px(_fringe(person)), person.hair_rgb)


def _fringe(person: SyntheticIdentity, count: int = 40) -> np.ndarray:
    """The part of a slightly larger oval above the hairline."""
    rx, ry, cy = person.face_width * 1.05, 1.05, -0.02
    edge = np.arcsin(np.clip((person.hairline_y - cy) / ry, -1.0, 1.0))  # <= 0
    t = np.linspace(np.pi - edge, 2 * np.pi + edge, count)
    return np.stack([rx * np.cos(t), cy + ry * np.sin(t)], axis=1)


# --- features -----------------------------------------------------------------------------------

def _draw_features(canvas, to_px, person: SyntheticIdentity, variation: FaceVariation,
                   skin: np.ndarray, size_px: int) -> None:
    # Yaw slides the features sideways; the nose tip sticks out further, so it slides more.
    feature_dx = 0.12 * variation.yaw * person.face_width
    nose_dx = 0.22 * variation.yaw * person.face_width
    for side in (-1.0, 1.0):
        _fill(canvas, to_px(_brow(person, variation, side, feature_dx)), person.hair_rgb)
        _draw_eye(canvas, to_px, person, variation, side, feature_dx, skin * 0.55, size_px)
    _draw_nose(canvas, to_px, person, feature_dx, nose_dx, skin)
    _draw_mouth(canvas, to_px, person, variation, feature_dx, size_px)


def _brow(person: SyntheticIdentity, variation: FaceVariation, side: float,
          dx: float) -> np.ndarray:
    along = np.linspace(0.0, 1.0, 12)  # 0 = inner end, 1 = outer end
    inner = person.eye_spacing - 0.9 * person.eye_width
    outer = person.eye_spacing + 1.25 * person.eye_width
    x = side * (inner + (outer - inner) * along) + dx
    y = (-0.34 - 0.1 * variation.brow_raise - 4.0 * person.brow_arch * along * (1.0 - along)
         + person.brow_tilt * (1.0 - along))
    half_thickness = 0.5 * person.brow_thickness * (1.0 - 0.5 * along)
    upper = np.stack([x, y - half_thickness], axis=1)
    lower = np.stack([x, y + half_thickness], axis=1)
    return np.concatenate([upper, lower[::-1]])


def _draw_eye(canvas, to_px, person: SyntheticIdentity, variation: FaceVariation, side: float,
              dx: float, lid_rgb: np.ndarray, size_px: int) -> None:
    cx = side * person.eye_spacing + dx
    half_width = person.eye_width * (1.0 - 0.2 * variation.yaw * side)  # far eye foreshortened
    half_height = 0.55 * half_width * variation.eye_open
    if variation.eye_open < 0.15:  # a blink: just the closed lid
        x = np.linspace(-1.0, 1.0, 9)
        lid = np.stack([cx + half_width * x, _EYE_Y + 0.15 * half_width * (1 - x**2)], axis=1)
        _line(canvas, to_px(lid), lid_rgb, size_px)
        return
    _fill(canvas, to_px(_ellipse(cx, _EYE_Y, half_width, half_height)), (245, 245, 240))
    iris_x = cx + 0.3 * variation.yaw * half_width
    iris = 0.48 * half_width
    _fill(canvas, to_px(_ellipse(iris_x, _EYE_Y, iris, min(iris, half_height))), person.iris_rgb)
    pupil = 0.45 * iris
    _fill(canvas, to_px(_ellipse(iris_x, _EYE_Y, pupil, min(pupil, half_height))), (15, 15, 15))
    outline = _ellipse(cx, _EYE_Y, half_width, half_height, count=24)
    _line(canvas, to_px(np.concatenate([outline, outline[:1]])), lid_rgb, size_px)


def _draw_nose(canvas, to_px, person: SyntheticIdentity, bridge_dx: float, tip_dx: float,
               skin: np.ndarray) -> None:
    width, tip_y = person.nose_width, person.nose_length
    _fill(canvas, to_px(np.array([
        [bridge_dx - 0.25 * width, -0.02], [bridge_dx + 0.25 * width, -0.02],
        [tip_dx + width, tip_y], [tip_dx, tip_y + 0.06], [tip_dx - width, tip_y],
    ])), skin * 0.82)
    for side in (-1.0, 1.0):
        _fill(canvas, to_px(_ellipse(tip_dx + side * 0.45 * width, tip_y + 0.015,
                                     0.22 * width, 0.12 * width, count=16)), skin * 0.45)


def _draw_mouth(canvas, to_px, person: SyntheticIdentity, variation: FaceVariation, dx: float,
                size_px: int) -> None:
    along = np.linspace(-1.0, 1.0, 17)  # corner to corner
    curve = _MOUTH_Y - 0.09 * variation.smile * along**2  # y is down: a smile lifts the corners
    gap = 0.11 * variation.mouth_open * (1.0 - along**2)
    lip = person.lip_thickness * (1.0 - 0.6 * along**2)
    x = dx + person.mouth_width * along
    upper_inner, lower_inner = curve - 0.35 * gap, curve + gap
    upper_outer, lower_outer = upper_inner - lip, lower_inner + 1.2 * lip
    _fill(canvas, to_px(_band(x, upper_outer, lower_outer)), person.lip_rgb)
    if variation.mouth_open > 0.05:
        _fill(canvas, to_px(_band(x, upper_inner, lower_inner)), (60, 20, 25))
    else:
        _line(canvas, to_px(np.stack([x, curve], axis=1)), np.array(person.lip_rgb) * 0.6, size_px)
    if person.moustache:
        bottom = upper_outer - 0.015
        top = bottom - 0.08 * (1.0 - 0.4 * along**2)
        _fill(canvas, to_px(_band(dx + 1.15 * person.mouth_width * along, top, bottom)),
              person.hair_rgb)


def _band(x: np.ndarray, top: np.ndarray, bottom: np.ndarray) -> np.ndarray:
    """A closed polygon between two curves sampled at the same x."""
    return np.concatenate([np.stack([x, top], axis=1), np.stack([x, bottom], axis=1)[::-1]])
