import numpy as np
import pytest

from phaze.errors import ConfigError
from phaze.faces.smoothing.one_euro import OneEuroConfig, OneEuroFilter, face_scale

FPS = 30.0


def _face(centre_x: float, size: float = 100.0) -> np.ndarray:
    """68 points on a circle: a 'face' of this size centred at (centre_x, 200)."""
    angles = np.linspace(0, 2 * np.pi, 68, endpoint=False)
    return np.stack([centre_x + size / 2 * np.cos(angles),
                     200 + size / 2 * np.sin(angles)], 1).astype(np.float32)


def test_first_value_passes_through_unchanged():
    face = _face(300)
    assert np.array_equal(OneEuroFilter(OneEuroConfig(), 100)(face, 0.0), face)


def test_jitter_of_a_still_face_is_reduced():
    rng = np.random.default_rng(0)
    smoother = OneEuroFilter(OneEuroConfig(), face_scale(_face(300)))
    raw = [_face(300) + rng.normal(0, 1.5, (68, 2)).astype(np.float32) for _ in range(90)]
    out = [smoother(face, i / FPS) for i, face in enumerate(raw)]
    raw_step = np.mean([np.abs(b - a).mean() for a, b in zip(raw[30:], raw[31:])])
    out_step = np.mean([np.abs(b - a).mean() for a, b in zip(out[30:], out[31:])])
    assert out_step < 0.3 * raw_step


def test_a_moving_face_is_followed_closely():
    # 1.5 face sizes per second, a brisk head turn: the filter must open up and keep up.
    smoother = OneEuroFilter(OneEuroConfig(), 100.0)
    lag = [np.abs(smoother(_face(300 + 5 * i), i / FPS) - _face(300 + 5 * i)).mean()
           for i in range(60)]
    assert max(lag[30:]) < 5.0            # under one frame's motion (5 px) once settled


def test_without_speed_adaptation_the_same_motion_lags_more():
    fast = OneEuroFilter(OneEuroConfig(), 100.0)
    slow = OneEuroFilter(OneEuroConfig(beta=0.0), 100.0)
    for i in range(60):
        target = _face(300 + 5 * i)
        lag_fast = np.abs(fast(target, i / FPS) - target).mean()
        lag_slow = np.abs(slow(target, i / FPS) - target).mean()
    assert lag_fast < 0.5 * lag_slow


def test_time_must_increase():
    smoother = OneEuroFilter()
    smoother(np.zeros(2), 1.0)
    with pytest.raises(ValueError, match="does not follow"):
        smoother(np.zeros(2), 1.0)


@pytest.mark.parametrize("field, value", [("min_cutoff_hz", 0.0), ("beta", -1.0),
                                          ("derivative_cutoff_hz", float("nan"))])
def test_invalid_settings_are_refused(field, value):
    with pytest.raises(ConfigError, match=field.split("_hz")[0]):
        OneEuroConfig(**{field: value})
