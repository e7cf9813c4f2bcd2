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

POLY_ORDER = 2   # quadratic: a turning head's speed and acceleration pass through unchanged
MIN_WINDOW = POLY_ORDER + 3   # a quadratic through 3 frames passes through them: no smoothing
MAX_WINDOW = 31


@dataclass(frozen=True)
class SmoothConfig:
    """Temporal landmark smoothing: the window in frames (odd); 0 turns it off."""

    window_frames: int = 9   # ~0.3 s at 25-30 fps: median jitter 1.0-1.6 % → 0.15-0.45 % IOD

    def __post_init__(self) -> None:
        if self.window_frames != 0 and not (
                MIN_WINDOW <= self.window_frames <= MAX_WINDOW and self.window_frames % 2 == 1):
            raise ConfigError(f"smooth window {self.window_frames} is invalid: expected 'off' "
                              f"(0) or an odd number of frames in {MIN_WINDOW}..{MAX_WINDOW}")

    @property
    def enabled(self) -> bool:
        return self.window_frames > 0


def smooth_points(points: np.ndarray, window_frames: int) -> np.ndarray:
    """(T, N, 2) points of one unbroken track segment, smoothed along T; same shape.

    Segments shorter than the window use the largest odd window that fits (at least 5 frames
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


def lag_frames(raw: np.ndarray, smoothed: np.ndarray, window_frames: int = 30,
               max_lag: int = 5) -> int:
    """How many frames `smoothed` trails `raw` (T, 68, 2) on the fastest stretch of the track.

    The stretch is the `window_frames` frames where the nose moves most; the lag is the shift
    that best lines up the smoothed nose velocity with the raw one (negative: it leads).
    """
    nose_raw, nose_smooth = np.diff(raw[:, 30], axis=0), np.diff(smoothed[:, 30], axis=0)
    window = min(window_frames, len(nose_raw) - 2 * max_lag)
    if window < 3:
        return 0
    speed = np.linalg.norm(nose_raw, axis=1)
    sums = np.convolve(speed, np.ones(window), "valid")[max_lag:len(speed) - window - max_lag + 1]
    start = int(np.argmax(sums)) + max_lag
    reference = nose_raw[start:start + window]
    scores = {shift: float((reference * nose_smooth[start + shift:start + shift + window]).sum())
              for shift in range(-max_lag, max_lag + 1)}
    return max(scores, key=scores.get)
