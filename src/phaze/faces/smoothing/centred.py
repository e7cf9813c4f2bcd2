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
    return np.stack([smoothed_at(points, frame, window_frames) for frame in range(len(points))]) \
        if len(points) else points.copy()


def smoothed_at(points, frame: int, window_frames: int) -> np.ndarray:
    """(N, 2): frame `frame` of the segment `points` ((T, N, 2) array or list of (N, 2)) smoothed.

    Reads only the window around `frame`, so a segment that grows frame by frame is smoothed in
    time proportional to its length.
    """
    length = len(points)
    window = min(window_frames, length if length % 2 else length - 1)
    if window <= POLY_ORDER + 1:
        return np.array(points[frame], np.float64)
    # The ends of a segment are fitted with the first/last full window evaluated off-centre
    # (not padded with copies of the end frame, which would pull them towards it).
    start = min(max(frame - window // 2, 0), length - window)
    stacked = np.asarray(points[start:start + window], np.float64)   # (window, N, 2)
    return np.tensordot(_fit_weights(window, frame - start), stacked, axes=1)


def is_final(frame: int, length: int, window_frames: int) -> bool:
    """Whether frame `frame` of a segment that has `length` frames so far (and may grow) is
    smoothed to its final value: its window lies wholly inside the frames already seen."""
    return window_frames <= length and frame + window_frames // 2 < length


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


class RunningSmoother:
    """Smooths track segments while their frames arrive, in order.

    Each point is handed back as soon as later frames can no longer change it: half a window
    after it, or when its segment ends (a frame that does not continue it). So extract can write
    a face a few frames after finding it, instead of decoding the video a second time.
    """

    def __init__(self, window_frames: int) -> None:
        self.window_frames = window_frames   # 0: no smoothing, every point is final at once
        self._raw: dict[int, list[np.ndarray]] = {}   # open segment → its points so far
        self._done: dict[int, int] = {}               # open segment → points handed back

    def add(self, frame_points: list[tuple[int, np.ndarray]]) -> list[tuple[int, int, np.ndarray]]:
        """One frame's (segment, (N, 2) points); returns (segment, index in the segment, final
        smoothed points) for every point that became final, this frame's included."""
        extended = {segment for segment, _ in frame_points}
        final = []
        for segment in [segment for segment in self._raw if segment not in extended]:
            final += self._finish(segment, ended=True)
        for segment, points in frame_points:
            self._raw.setdefault(segment, []).append(np.asarray(points, np.float64))
            self._done.setdefault(segment, 0)
            final += self._finish(segment, ended=False)
        return final

    def close(self) -> list[tuple[int, int, np.ndarray]]:
        """Every point not yet handed back (the input has ended)."""
        final = []
        for segment in list(self._raw):
            final += self._finish(segment, ended=True)
        return final

    def _finish(self, segment: int, ended: bool) -> list[tuple[int, int, np.ndarray]]:
        points, start = self._raw[segment], self._done[segment]
        stop = start
        while stop < len(points) and (ended or is_final(stop, len(points), self.window_frames)):
            stop += 1
        final = [(segment, index, smoothed_at(points, index, self.window_frames))
                 for index in range(start, stop)]
        self._done[segment] = stop
        if ended:   # a segment that ended never grows again: forget it
            del self._raw[segment], self._done[segment]
        return final
