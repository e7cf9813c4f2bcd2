"""Synthetic occluders pasted on faces, so the segmenter learns "face minus what covers it".

Each kind draws an alpha shape (S, S) float in [0, 1] and a fill (S, S, 3); `occlude` pastes one
on a face with blur and colour jitter, rejecting draws that cover more than the allowed share of
the face. Training uses TRAIN_KINDS with textures from other faces and training photos; the
metric uses HELD_OUT_KINDS with photos never seen in training, so it measures generalisation.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from phaze.errors import ConfigError

Rng = np.random.Generator
TRAIN_KINDS = ("patch", "hand", "hair", "glasses")
HELD_OUT_KINDS = ("blob", "stick")  # other shapes (and, by the caller, other textures)


@dataclass(frozen=True)
class OccluderConfig:
    kinds: tuple[str, ...] = TRAIN_KINDS
    max_coverage: float = 0.40   # share of the face (target mask) an occluder may cover
    probability: float = 0.75    # share of samples that get an occluder at all
    attempts: int = 6            # draws before giving up on a sample (it stays unoccluded)

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in SHAPES]
        if unknown or not self.kinds:
            raise ConfigError(f"occluder kind {unknown[0] if unknown else '(none)'!r} is "
                              f"invalid: expected one or more of: {', '.join(SHAPES)}")
        if not 0.0 < self.max_coverage <= 1.0 or not 0.0 <= self.probability <= 1.0:
            raise ConfigError(f"occluder max_coverage {self.max_coverage} / probability "
                              f"{self.probability} are invalid: expected (0, 1] and [0, 1]")


# --- shapes: (size, rng, eyes) → alpha (S, S) float32 -------------------------------------------
def _polygon_patch(size: int, rng: Rng, eyes: np.ndarray | None) -> np.ndarray:
    alpha = np.zeros((size, size), np.float32)
    centre = rng.uniform(0.0, 1.0, 2) * size
    radius = rng.uniform(0.12, 0.35) * size
    if rng.random() < 0.5:
        points = centre + rng.normal(0, radius, (rng.integers(3, 8), 2))
        cv2.fillConvexPoly(alpha, cv2.convexHull(points.astype(np.int32)), 1.0, cv2.LINE_AA)
    else:
        axes = (int(radius), int(radius * rng.uniform(0.4, 1.0)))
        cv2.ellipse(alpha, tuple(int(c) for c in centre), axes, rng.uniform(0, 180), 0, 360,
                    1.0, -1, cv2.LINE_AA)
    return alpha


def _hand(size: int, rng: Rng, eyes: np.ndarray | None) -> np.ndarray:
    """A palm ellipse with four or five finger capsules, entering from an edge."""
    alpha = np.zeros((size, size), np.float32)
    angle = rng.uniform(0, 2 * np.pi)
    palm = np.array([0.5, 0.5]) * size + np.array([np.cos(angle), np.sin(angle)]) * \
        rng.uniform(0.25, 0.55) * size
    palm_r = rng.uniform(0.10, 0.18) * size
    towards = -angle + rng.normal(0, 0.4)  # fingers point roughly at the face's centre
    direction = np.array([np.cos(-towards), np.sin(-towards)])
    cv2.ellipse(alpha, tuple(int(c) for c in palm), (int(palm_r), int(palm_r * 0.85)),
                np.degrees(-towards), 0, 360, 1.0, -1, cv2.LINE_AA)
    side = np.array([-direction[1], direction[0]])
    fingers = int(rng.integers(4, 6))
    width = max(2, int(palm_r * rng.uniform(0.28, 0.4)))
    for index in range(fingers):
        offset = (index - (fingers - 1) / 2) * palm_r * 0.45
        start = palm + side * offset
        bend = direction + side * rng.normal(0, 0.15)
        end = start + bend * palm_r * rng.uniform(1.2, 2.0)
        cv2.line(alpha, tuple(int(c) for c in start), tuple(int(c) for c in end), 1.0, width,
                 cv2.LINE_AA)
    # The forearm leaves the picture.
    cv2.line(alpha, tuple(int(c) for c in palm), tuple(int(c) for c in palm - direction * size),
             1.0, int(palm_r * 1.4), cv2.LINE_AA)
    return alpha


def _hair(size: int, rng: Rng, eyes: np.ndarray | None) -> np.ndarray:
    """A lock of strands falling from the top or a side across the face."""
    alpha = np.zeros((size, size), np.float32)
    start_x = rng.uniform(0.1, 0.9) * size
    spread = rng.uniform(0.05, 0.25) * size
    length = rng.uniform(0.3, 0.8) * size
    sway = rng.normal(0, 0.25) * size
    for _ in range(int(rng.integers(20, 70))):
        x0 = start_x + rng.normal(0, spread)
        t = np.linspace(0.0, 1.0, 12)[:, None]
        xs = x0 + sway * t ** 2 + rng.normal(0, 0.02 * size) * np.sin(t * rng.uniform(2, 6))
        ys = -0.05 * size + length * rng.uniform(0.6, 1.0) * t
        points = np.hstack([xs, ys]).astype(np.int32)
        cv2.polylines(alpha, [points], False, 1.0, int(rng.integers(1, 4)), cv2.LINE_AA)
    if rng.random() < 0.5:  # from the side instead of the top
        alpha = np.ascontiguousarray(np.rot90(alpha, 1 if rng.random() < 0.5 else 3))
    return alpha


def _glasses(size: int, rng: Rng, eyes: np.ndarray | None) -> np.ndarray:
    """Two rims and a bridge on the eyes (dark lenses sometimes, which then occlude too)."""
    alpha = np.zeros((size, size), np.float32)
    if eyes is None:
        eyes = np.array([[0.36, 0.45], [0.64, 0.45]]) * size
    eyes = eyes + rng.normal(0, 0.01 * size, eyes.shape)
    spacing = float(np.linalg.norm(eyes[1] - eyes[0]))
    axes = (int(spacing * rng.uniform(0.35, 0.5)), int(spacing * rng.uniform(0.22, 0.35)))
    thickness = int(max(1, spacing * rng.uniform(0.03, 0.09)))
    filled = rng.random() < 0.3
    tilt = np.degrees(np.arctan2(*(eyes[1] - eyes[0])[::-1]))
    for eye in eyes:
        cv2.ellipse(alpha, tuple(int(c) for c in eye), axes, tilt, 0, 360, 1.0,
                    -1 if filled else thickness, cv2.LINE_AA)
    inner = [eyes[0] + (eyes[1] - eyes[0]) * f for f in (0.3, 0.7)]
    cv2.line(alpha, tuple(int(c) for c in inner[0]), tuple(int(c) for c in inner[1]), 1.0,
             thickness, cv2.LINE_AA)
    for eye, sign in ((eyes[0], -1), (eyes[1], 1)):  # temples towards the ears
        rim = eye + np.array([sign * axes[0], 0])
        cv2.line(alpha, tuple(int(c) for c in rim),
                 tuple(int(c) for c in rim + np.array([sign * spacing, -0.05 * spacing])), 1.0,
                 thickness, cv2.LINE_AA)
    return alpha


def _blob(size: int, rng: Rng, eyes: np.ndarray | None) -> np.ndarray:
    """Held out: a smooth star-shaped object (a cup, a toy, a fruit)."""
    alpha = np.zeros((size, size), np.float32)
    centre = rng.uniform(0.05, 0.95, 2) * size
    angles = np.linspace(0, 2 * np.pi, 64, endpoint=False)
    radius = rng.uniform(0.12, 0.3) * size
    wobble = sum(rng.uniform(0, 0.25) * np.cos(k * angles + rng.uniform(0, 6.3))
                 for k in (2, 3, 5))
    r = radius * (1 + wobble)
    points = centre + np.stack([np.cos(angles) * r, np.sin(angles) * r], 1)
    cv2.fillPoly(alpha, [points.astype(np.int32)], 1.0, cv2.LINE_AA)
    return alpha


def _stick(size: int, rng: Rng, eyes: np.ndarray | None) -> np.ndarray:
    """Held out: a microphone: a handle from the bottom edge with a round head."""
    alpha = np.zeros((size, size), np.float32)
    head = np.array([rng.uniform(0.2, 0.8), rng.uniform(0.5, 0.95)]) * size
    base = np.array([head[0] + rng.normal(0, 0.2) * size, size * 1.2])
    cv2.line(alpha, tuple(int(c) for c in head), tuple(int(c) for c in base), 1.0,
             int(rng.uniform(0.04, 0.09) * size), cv2.LINE_AA)
    cv2.circle(alpha, tuple(int(c) for c in head), int(rng.uniform(0.07, 0.13) * size), 1.0, -1,
               cv2.LINE_AA)
    return alpha


SHAPES: dict[str, Callable[[int, Rng, np.ndarray | None], np.ndarray]] = {
    "patch": _polygon_patch, "hand": _hand, "hair": _hair, "glasses": _glasses,
    "blob": _blob, "stick": _stick}


# --- fills and pasting --------------------------------------------------------------------------
def procedural_texture(size: int, rng: Rng) -> np.ndarray:
    """(S, S, 3) uint8: multi-scale colour noise, stripes or a gradient, so training needs no
    photos beyond the user's own faces."""
    choice = rng.integers(3)
    if choice == 0:
        field = sum(cv2.resize(rng.random((cells, cells, 3)).astype(np.float32), (size, size),
                               interpolation=cv2.INTER_CUBIC) / (i + 1)
                    for i, cells in enumerate((2, 4, 8, 16)))
        field = (field - field.min()) / max(float(np.ptp(field)), 1e-6)
    else:
        y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
        angle = rng.uniform(0, np.pi)
        ramp = np.cos(angle) * x + np.sin(angle) * y
        wave = np.sin(ramp * rng.uniform(6, 40)) * 0.5 + 0.5 if choice == 1 else ramp
        low, high = rng.random(3), rng.random(3)
        field = low + (high - low) * wave[..., None]
    return np.clip(field * 255.0, 0, 255).astype(np.uint8)


def _fill(kind: str, size: int, rng: Rng, textures: Sequence[np.ndarray]) -> np.ndarray:
    """(S, S, 3) float32 [0, 1]: a texture crop, or a flat colour for hair and glasses."""
    if not textures or rng.random() < 0.25:
        return procedural_texture(size, rng).astype(np.float32) / 255.0
    if kind in ("hair", "glasses") and rng.random() < 0.7:
        tone = rng.uniform(0.0, 0.35) if rng.random() < 0.7 else rng.uniform(0.35, 0.9)
        colour = np.clip(tone * rng.uniform(0.7, 1.3, 3), 0, 1)
        noise = rng.normal(0, 0.04, (size, size, 1))
        return np.clip(colour + noise, 0, 1).astype(np.float32)
    texture = textures[int(rng.integers(len(textures)))]
    height, width = texture.shape[:2]
    side = int(min(height, width) * rng.uniform(0.3, 1.0))
    top, left = rng.integers(0, height - side + 1), rng.integers(0, width - side + 1)
    crop = texture[top:top + side, left:left + side]
    if crop.ndim == 2:
        crop = np.repeat(crop[..., None], 3, axis=2)
    crop = cv2.resize(np.ascontiguousarray(crop[..., :3]), (size, size),
                      interpolation=cv2.INTER_AREA if side > size else cv2.INTER_LINEAR)
    return crop.astype(np.float32) / 255.0


def _jitter(fill: np.ndarray, rng: Rng) -> np.ndarray:
    gain = rng.uniform(0.6, 1.4) * rng.uniform(0.85, 1.15, 3)
    return np.clip((fill - 0.5) * rng.uniform(0.7, 1.3) + 0.5 + rng.normal(0, 0.08), 0, 1) * gain


def _soften(alpha: np.ndarray, rng: Rng) -> np.ndarray:
    kernel = int(rng.choice([0, 0, 3, 5]))
    return cv2.GaussianBlur(alpha, (kernel, kernel), 0) if kernel else alpha


def occlude(image: np.ndarray, face: np.ndarray, textures: Sequence[np.ndarray], rng: Rng,
            config: OccluderConfig = OccluderConfig(),
            eyes: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Paste one occluder (or none) on `image`.

    image (S, S, 3) uint8, face (S, S) float [0, 1]: the face mask before occlusion; eyes
    (2, 2) px or None. Returns (occluded image uint8, occluder alpha (S, S) float32 in [0, 1]).
    """
    size = image.shape[0]
    nothing = np.zeros((size, size), np.float32)
    if rng.random() >= config.probability:
        return image, nothing
    face_area = max(float((face > 0.5).sum()), 1.0)
    for _ in range(config.attempts):
        kind = config.kinds[int(rng.integers(len(config.kinds)))]
        alpha = _soften(SHAPES[kind](size, rng, eyes), rng)
        covered = float(((alpha > 0.5) & (face > 0.5)).sum()) / face_area
        if covered <= config.max_coverage:
            break
    else:
        return image, nothing
    fill = _jitter(_fill(kind, size, rng, textures), rng)
    if rng.random() < 0.3:  # out of focus or moving, like a hand in front of the lens
        fill = cv2.GaussianBlur(fill, (5, 5), 0)
    weight = alpha[..., None]
    out = image.astype(np.float32) / 255.0 * (1 - weight) + fill * weight
    return np.clip(np.rint(out * 255.0), 0, 255).astype(np.uint8), alpha
