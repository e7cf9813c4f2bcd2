import cv2
import numpy as np
import pytest

from phaze.convert import COLOUR_METHODS
from phaze.convert.colour import get_colour_method
from phaze.errors import ConfigError


def _faces(seed=0, size=48):
    rng = np.random.default_rng(seed)
    original = rng.uniform(0.3, 0.6, (size, size, 3)).astype(np.float32)
    swap = np.clip(rng.uniform(0.1, 0.9, (size, size, 3)) * [0.6, 1.0, 0.8] + 0.15,
                   0, 1).astype(np.float32)
    mask = np.zeros((size, size), np.float32)
    cv2.circle(mask, (size // 2, size // 2), size // 3, 1.0, -1)
    return swap, original, mask


@pytest.mark.parametrize("name", sorted(COLOUR_METHODS))
def test_every_method_keeps_shape_and_range(name):
    swap, original, mask = _faces()
    out = get_colour_method(name)(swap, original, mask)
    assert out.shape == swap.shape and out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


def test_avg_color_matches_mean_under_mask_within_one_level():
    swap, original, mask = _faces()
    out = get_colour_method("avg-color")(swap, original, mask)
    under = mask > 0.5
    assert np.abs(out[under].mean(0) - original[under].mean(0)).max() * 255 <= 1.0
    assert np.abs(swap[under].mean(0) - original[under].mean(0)).max() * 255 > 5  # was off


def test_reinhard_matches_lab_mean_and_std():
    swap, original, mask = _faces(1)
    out = get_colour_method("reinhard")(swap, original, mask)
    under = mask > 0.5
    lab_out = cv2.cvtColor(out, cv2.COLOR_RGB2LAB)[under]
    lab_ref = cv2.cvtColor(original, cv2.COLOR_RGB2LAB)[under]
    np.testing.assert_allclose(lab_out.mean(0), lab_ref.mean(0), atol=1.0)
    np.testing.assert_allclose(lab_out.std(0), lab_ref.std(0), rtol=0.1, atol=0.5)


def test_hist_match_gives_the_originals_distribution():
    swap, original, mask = _faces(2)
    out = get_colour_method("hist-match")(swap, original, mask)
    under = mask > 0.5
    for channel in range(3):
        got = np.percentile(out[..., channel][under], [10, 50, 90])
        want = np.percentile(original[..., channel][under], [10, 50, 90])
        np.testing.assert_allclose(got, want, atol=2 / 255)


def test_seamless_keeps_outside_and_removes_a_constant_offset_inside():
    size = 64
    y, x = np.mgrid[0:size, 0:size].astype(np.float32) / size
    original = np.stack([0.3 + 0.3 * x, 0.4 + 0.2 * y, 0.5 - 0.2 * x], -1).astype(np.float32)
    swap = original + 0.2  # same gradients, other colour
    mask = np.zeros((size, size), np.float32)
    mask[16:48, 16:48] = 1.0
    out = get_colour_method("seamless")(swap, original, mask)
    outside = np.ones((size, size), bool)
    outside[14:50, 14:50] = False
    np.testing.assert_allclose(out[outside], original[outside], atol=1 / 255)
    assert np.abs(out[20:44, 20:44] - original[20:44, 20:44]).max() < 4 / 255


def test_none_returns_the_swap_unchanged():
    swap, original, mask = _faces()
    assert np.array_equal(get_colour_method("none")(swap, original, mask), swap)


def test_unknown_method_is_a_one_line_error():
    with pytest.raises(ConfigError, match="avg-color"):
        get_colour_method("sepia")
