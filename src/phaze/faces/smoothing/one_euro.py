"""Temporal smoothing of landmark arrays: a One-Euro filter (a speed-adaptive low-pass).

Detector landmarks jitter by a pixel or two from frame to frame even on a still face; pasted
through the alignment matrix, that jitter shakes the whole swapped face. A fixed low-pass would
remove it but make the face lag behind a moving head. The One-Euro filter low-passes hard while
a point is still and opens up as it moves: cutoff = min_cutoff + beta × |speed|.

Values are filtered in face-size units (the caller gives the scale, e.g. the face's size in
px), so one setting serves a 60 px face and a 600 px one. Causal and streaming: one call per
frame, nothing is held back, so convert can use it while writing frames in order.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from phaze.errors import ConfigError


@dataclass(frozen=True)
class OneEuroConfig:
    min_cutoff_hz: float = 1.0       # cutoff of a still point: lower = steadier, more lag
    beta: float = 2.0                # cutoff gained per face-size/s of speed: higher = less lag
    derivative_cutoff_hz: float = 1.0   # low-pass of the speed estimate itself

    def __post_init__(self) -> None:
        for name in ("min_cutoff_hz", "derivative_cutoff_hz"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value > 0):
                raise ConfigError(f"smoothing {name} {value!r} is invalid: expected a number > 0")
        if not (math.isfinite(self.beta) and self.beta >= 0):
            raise ConfigError(f"smoothing beta {self.beta!r} is invalid: expected a number >= 0")


def _alpha(cutoff_hz: np.ndarray | float, dt_s: float) -> np.ndarray | float:
    """Smoothing factor of a first-order low-pass with this cutoff, sampled every dt."""
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Filters a stream of same-shaped arrays element-wise; `scale` is their unit (px per face)."""

    def __init__(self, config: OneEuroConfig = OneEuroConfig(), scale: float = 1.0) -> None:
        if not scale > 0:
            raise ValueError(f"scale must be > 0, got {scale}")
        self.config, self.scale = config, float(scale)
        self._value: np.ndarray | None = None      # last filtered value, in units of scale
        self._speed: np.ndarray | None = None      # last filtered speed, units per second
        self._time_s: float | None = None

    def reset(self) -> None:
        self._value = self._speed = self._time_s = None

    def __call__(self, value: np.ndarray, time_s: float) -> np.ndarray:
        """The filtered value at `time_s` (strictly increasing); same shape and dtype."""
        raw = np.asarray(value, np.float64) / self.scale
        if self._time_s is None:   # the first value passes through and starts the state
            self._value, self._speed, self._time_s = raw, np.zeros_like(raw), time_s
            return np.asarray(value).copy()
        if time_s <= self._time_s:
            raise ValueError(f"time {time_s} s does not follow {self._time_s} s")
        dt_s = time_s - self._time_s
        speed = (raw - self._value) / dt_s
        self._speed = self._speed + _alpha(self.config.derivative_cutoff_hz, dt_s) * \
            (speed - self._speed)
        cutoff_hz = self.config.min_cutoff_hz + self.config.beta * np.abs(self._speed)
        self._value = self._value + _alpha(cutoff_hz, dt_s) * (raw - self._value)
        self._time_s = time_s
        return (self._value * self.scale).astype(np.asarray(value).dtype)


def face_scale(landmarks: np.ndarray) -> float:
    """A face's size in px: the larger side of its landmarks' bounding box (at least 1)."""
    points = np.asarray(landmarks, np.float64).reshape(-1, 2)
    return max(float((points.max(0) - points.min(0)).max()), 1.0)
