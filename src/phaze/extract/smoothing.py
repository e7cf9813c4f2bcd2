"""Steady landmarks for video: a zero-lag temporal filter over the frames of one face track.

dlib's predictor answers in whole pixels and re-guesses every frame, so a still head's points
wobble by about 1 % of the inter-ocular distance from frame to frame, and the alignment matrix
(hence the extracted face) wobbles with them. Extract sees the whole video before it writes a
face, so it can use a centred window instead of a causal filter (One-Euro, Kalman): a centred
Savitzky–Golay fit has no phase lag at all, and a quadratic fit follows a head turn's speed and
acceleration instead of flattening it, which is why it is used rather than a plain moving average.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phaze.errors import ConfigError

MAX_WINDOW = 31
POLY_ORDER = 2   # quadratic: a turning head's speed and acceleration pass through unchanged


@dataclass(frozen=True)
class SmoothConfig:
    """Temporal landmark smoothing: the window in frames (odd); 0 turns it off."""

    window_frames: int = 7   # ~0.25 s at 25-30 fps: median jitter 1.0-1.5 % → 0.2-0.45 % IOD

    def __post_init__(self) -> None:
        if self.window_frames != 0 and not (
                3 <= self.window_frames <= MAX_WINDOW and self.window_frames % 2 == 1):
            raise ConfigError(f"smooth window {self.window_frames} is invalid: expected 'off' "
                              f"(0) or an odd number of frames in 3..{MAX_WINDOW}")

    @property
    def enabled(self) -> bool:
        return self.window_frames > 0


def smooth_points(points: np.ndarray, window_frames: int) -> np.ndarray:
    """(T, N, 2) points of one unbroken track segment, smoothed along T; same shape.

    Segments shorter than the window use the largest odd window that fits (at least 3 frames
    for a quadratic fit to smooth anything; shorter ones come back unchanged).
    """
    points = np.asarray(points, np.float64)
    window = min(window_frames, len(points) if len(points) % 2 else len(points) - 1)
    if window <= POLY_ORDER + 1:
        return points.copy()
    half, smoothed = window // 2, np.empty_like(points)
    for frame in range(len(points)):
        # The ends of a segment are fitted with the first/last full window evaluated off-centre
        # (not padded with copies of the end frame, which would pull them towards it).
        start = min(max(frame - half, 0), len(points) - window)
        weights = _fit_weights(window, frame - start)
        smoothed[frame] = np.tensordot(weights, points[start:start + window], axes=1)
    return smoothed


def _fit_weights(window: int, at: int) -> np.ndarray:
    """(window,) weights w such that w @ y is the least-squares quadratic through y at `at`."""
    offsets = np.arange(window, dtype=np.float64) - at
    vandermonde = offsets[:, None] ** np.arange(POLY_ORDER + 1)   # (window, order + 1)
    return np.linalg.pinv(vandermonde)[0]   # the fit's constant term = its value at `at`


def landmark_jitter(points: np.ndarray) -> np.ndarray:
    """Per-frame jitter of a (T, 68, 2) track: each frame's mean point distance from the average
    of its two neighbours, over the inter-ocular distance; (T - 2,) fractions."""
    points = np.asarray(points, np.float64)
    middle = points[1:-1]
    inter_ocular = np.linalg.norm(middle[:, 36:42].mean(1) - middle[:, 42:48].mean(1), axis=1)
    offset = np.linalg.norm(middle - (points[:-2] + points[2:]) / 2, axis=2).mean(1)
    return offset / inter_ocular
