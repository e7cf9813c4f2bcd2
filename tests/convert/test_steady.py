import numpy as np
import pytest

from phaze.convert.steady import SteadyLandmarks
from phaze.errors import ConfigError

FPS = 25.0


def _face(x: float, y: float = 200.0, size: float = 80.0) -> np.ndarray:
    angles = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    return np.stack([x + size / 2 * np.cos(angles), y + size / 2 * np.sin(angles)], 1)


def test_two_faces_are_smoothed_on_their_own_tracks():
    rng = np.random.default_rng(1)
    steady = SteadyLandmarks(FPS)
    for index in range(50):
        left = _face(100) + rng.normal(0, 1.0, (68, 2))
        right = _face(500) + rng.normal(0, 1.0, (68, 2))
        faces = [right, left] if index % 2 else [left, right]   # the order does not matter
        out = steady(index, faces)
    by_x = sorted(out, key=lambda lm: lm[:, 0].mean())
    assert abs(by_x[0][:, 0].mean() - 100) < 1.0 and abs(by_x[1][:, 0].mean() - 500) < 1.0
    assert len(steady.tracks) == 2


def test_jitter_is_removed_from_a_still_face():
    rng = np.random.default_rng(2)
    steady = SteadyLandmarks(FPS)
    raw = [_face(300) + rng.normal(0, 1.5, (68, 2)) for _ in range(60)]
    out = [steady(i, [face])[0] for i, face in enumerate(raw)]
    step = lambda seq: np.mean([np.abs(b - a).mean() for a, b in zip(seq[20:], seq[21:])])
    assert step(out) < 0.3 * step(raw)


def test_a_face_back_after_a_gap_starts_a_new_track():
    steady = SteadyLandmarks(FPS)
    for index in range(10):
        steady(index, [_face(300)])
    steady(11, [])
    jumped = _face(310)
    assert np.array_equal(steady(40, [jumped])[0], jumped)   # 1.2 s later: not blended


def test_a_frame_rate_is_required():
    with pytest.raises(ConfigError, match="frame rate"):
        SteadyLandmarks(0)
