"""The filter curve reproduces the guide's worked examples."""
import pytest

from phaze.model.curve import filter_curve

FULL_CASES = [
    ((512, 64, 4, -0.45), [512, 256, 128, 64]),
    ((512, 64, 4, 0.0), [512, 360, 208, 64]),
    ((512, 64, 4, -0.75), [512, 160, 88, 64]),
    ((512, 64, 4, 0.75), [512, 480, 408, 64]),
    ((512, 64, 4, 0.45), [512, 440, 312, 64]),
    ((64, 512, 4, 0.45), [64, 128, 256, 512]),
    ((512, 64, 6, -0.75), [512, 224, 136, 96, 72, 64]),
    ((512, 64, 6, -0.45), [512, 328, 224, 152, 96, 64]),
    ((512, 64, 6, 0.0), [512, 416, 328, 240, 152, 64]),
    ((512, 64, 6, 0.45), [512, 472, 416, 344, 240, 64]),
]

CAP_CASES = [
    ((512, 64, 6, 0.5, "cap_max"), [512, 512, 512, 256, 128, 64]),
    ((512, 64, 6, 0.5, "cap_min"), [512, 256, 128, 64, 64, 64]),
    ((512, 64, 6, -0.5, "cap_min"), [512, 256, 128, 64, 64, 64]),
    ((512, 64, 6, 0.33, "cap_min"), [512, 336, 224, 144, 96, 64]),
    ((512, 16, 6, 0.5, "cap_max"), [512, 256, 128, 64, 32, 16]),
    ((512, 16, 7, 0.5, "cap_max"), [512, 512, 256, 128, 64, 32, 16]),
    ((512, 16, 8, 0.5, "cap_max"), [512, 512, 512, 256, 128, 64, 32, 16]),
]


@pytest.mark.parametrize("args, expected", FULL_CASES)
def test_full_curve_matches_guide(args, expected):
    assert filter_curve(*args) == expected


@pytest.mark.parametrize("args, expected", CAP_CASES)
def test_capped_curves_match_spec(args, expected):
    assert filter_curve(*args) == expected


def test_single_step_uses_start_and_zero_steps_is_empty():
    assert filter_curve(1000, 2000, 1, 0.3) == [1000]
    assert filter_curve(512, 64, 0, 0.3) == []


def test_slope_is_clamped():
    assert filter_curve(512, 64, 4, -5.0) == filter_curve(512, 64, 4, -0.99)


def test_cap_mode_that_never_reaches_end_is_not_padded():
    # r = 0.99 cannot fall from 512 to 64 in 3 steps
    assert filter_curve(512, 64, 3, 0.01, "cap_max") == [512, 504, 496]
