"""Augmentation: output contract, flips, crops, and which steps touch input, target and mask."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from phaze.data.settings import AugmentConfig
from phaze.data.augment import augment_pair, prepare_plain

NOTHING = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=False, color=False,
                        flip=False)


def _plain(image: np.ndarray) -> np.ndarray:
    """uint8 (H, W, C) -> float32 (C, H, W) in [0, 1], the way the loader expects it."""
    return image.transpose(2, 0, 1).astype(np.float32) / 255.0


def _mask_for(face: np.ndarray) -> np.ndarray:
    return face[..., 0].copy()


def test_default_augmentation_returns_float32_chw_in_unit_range(gradient_face):
    inputs, target, mask, _ = augment_pair(gradient_face, _mask_for(gradient_face), 32, 48,
                                        AugmentConfig(), np.random.default_rng(0))
    assert inputs.shape == (3, 32, 32) and target.shape == (3, 48, 48)
    assert mask.shape == (1, 48, 48)
    for array in (inputs, target, mask):
        assert array.dtype == np.float32
        assert 0.0 <= array.min() and array.max() <= 1.0


def test_missing_mask_stays_missing(gradient_face):
    _, _, mask, _ = augment_pair(gradient_face, None, 32, 32, AugmentConfig(),
                              np.random.default_rng(0))
    assert mask is None


def test_same_rng_seed_gives_same_example(gradient_face):
    first = augment_pair(gradient_face, None, 32, 32, AugmentConfig(), np.random.default_rng(4))
    again = augment_pair(gradient_face, None, 32, 32, AugmentConfig(), np.random.default_rng(4))
    other = augment_pair(gradient_face, None, 32, 32, AugmentConfig(), np.random.default_rng(5))
    np.testing.assert_array_equal(first[0], again[0])
    assert not np.array_equal(first[0], other[0])


def test_no_augmentation_is_a_plain_area_resize(gradient_face):
    inputs, target, mask, _ = augment_pair(gradient_face, _mask_for(gradient_face), 32, 64, NOTHING,
                                        np.random.default_rng(0))
    resized = cv2.resize(gradient_face, (32, 32), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(inputs, _plain(resized))
    np.testing.assert_array_equal(target, _plain(gradient_face))
    np.testing.assert_array_equal(mask[0], gradient_face[..., 0] / np.float32(255))


def test_no_augmentation_matches_prepare_plain(gradient_face):
    augmented = augment_pair(gradient_face, _mask_for(gradient_face), 24, 40, NOTHING,
                             np.random.default_rng(0))
    plain = prepare_plain(gradient_face, _mask_for(gradient_face), 24, 40)
    for got, expected in zip(augmented[:3], plain[:3]):
        np.testing.assert_array_equal(got, expected)


def _dot_face(points: np.ndarray, size: int = 64) -> tuple[np.ndarray, np.ndarray]:
    """A grey face with one bright pixel at each point, and the same dots as a mask plane."""
    face = np.full((size, size, 3), 60, np.uint8)
    mask = np.zeros((size, size), np.uint8)
    for x, y in np.round(points).astype(int):
        face[y, x] = 255
        mask[y, x] = 255
    return face, mask


def test_landmarks_follow_the_affine_and_the_flip():
    points = np.array([[20.0, 20.0], [44.0, 30.0]] + [[32.0, 32.0]] * 66, np.float32)
    face, mask = _dot_face(points)
    config = AugmentConfig(rotation_range=10, zoom_amount=5, shift_range=5, warp=False,
                           color=False, flip_chance=100.0)
    _, _, moved_mask, landmarks = augment_pair(face, mask, 64, 64, config,
                                               np.random.default_rng(3), points)
    # After the flip point 0 (jaw, right) is renumbered 16 (jaw, left), and so on.
    for index in (16, 15):  # where points 0 and 1 went
        x, y = np.round(landmarks[index]).astype(int)
        window = moved_mask[0, y - 1:y + 2, x - 1:x + 2]
        assert window.max() > 0.2, f"landmark {index} is not on its moved dot"


def test_flip_renumbering_is_a_mirror_permutation():
    from phaze.data.augment import FLIP_68

    assert sorted(FLIP_68.tolist()) == list(range(68))
    np.testing.assert_array_equal(FLIP_68[FLIP_68], np.arange(68))
    assert FLIP_68[36] == 45 and FLIP_68[48] == 54 and FLIP_68[8] == 8


def test_certain_flip_mirrors_input_target_and_mask(gradient_face):
    config = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=False,
                           color=False, flip=True, flip_chance=100)
    inputs, target, mask, _ = augment_pair(gradient_face, _mask_for(gradient_face), 64, 64, config,
                                        np.random.default_rng(0))
    mirrored = np.fliplr(gradient_face)
    np.testing.assert_array_equal(target, _plain(mirrored))
    np.testing.assert_array_equal(inputs, _plain(mirrored))
    np.testing.assert_array_equal(mask[0], mirrored[..., 0] / np.float32(255))


def test_zero_flip_chance_never_flips(gradient_face):
    config = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=False,
                           color=False, flip=True, flip_chance=0)
    for seed in range(5):
        _, target, _, _ = augment_pair(gradient_face, None, 64, 64, config,
                                    np.random.default_rng(seed))
        np.testing.assert_array_equal(target, _plain(gradient_face))


def test_warp_changes_the_input_only(gradient_face):
    config = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=True,
                           color=False, flip=False)
    inputs, target, _, _ = augment_pair(gradient_face, None, 64, 64, config,
                                     np.random.default_rng(0))
    np.testing.assert_array_equal(target, _plain(gradient_face))
    difference = np.abs(inputs - _plain(gradient_face)).mean()
    assert 0.0 < difference < 0.1  # a gentle distortion, not a different image


def test_affine_moves_target_and_mask_together(gradient_face):
    config = AugmentConfig(rotation_range=10, zoom_amount=5, shift_range=5, warp=False,
                           color=False, flip=True)
    _, target, mask, _ = augment_pair(gradient_face, _mask_for(gradient_face), 64, 64, config,
                                   np.random.default_rng(1))
    assert not np.array_equal(target, _plain(gradient_face))
    np.testing.assert_array_equal(mask[0], target[0])  # the mask was the face's red channel


def test_colour_jitter_changes_colours_but_not_the_mask(gradient_face):
    config = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=False,
                           color=True, flip=False, color_clahe_chance=0)
    _, target, mask, _ = augment_pair(gradient_face, _mask_for(gradient_face), 64, 64, config,
                                   np.random.default_rng(2))
    assert np.abs(target - _plain(gradient_face)).mean() > 0.01
    np.testing.assert_array_equal(mask[0], gradient_face[..., 0] / np.float32(255))


def test_zero_colour_amounts_only_round_trip_through_lab(gradient_face):
    config = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=False,
                           color=True, flip=False, color_lightness=0, color_ab=0,
                           color_clahe_chance=0)
    _, target, _, _ = augment_pair(gradient_face, None, 64, 64, config, np.random.default_rng(0))
    lab = cv2.cvtColor(gradient_face, cv2.COLOR_RGB2LAB)
    np.testing.assert_array_equal(target, _plain(cv2.cvtColor(lab, cv2.COLOR_LAB2RGB)))


def test_lightness_factor_moves_lightness_towards_black_or_white(gradient_face):
    config = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=False,
                           color=True, flip=False, color_lightness=30, color_ab=0,
                           color_clahe_chance=0)
    lightness_before = cv2.cvtColor(gradient_face, cv2.COLOR_RGB2LAB)[..., 0].astype(float)
    shifts = []
    for seed in range(6):
        rng = np.random.default_rng(seed)
        factor = np.random.default_rng(seed).uniform(-0.3, 0.3)  # the draw jitter_colour makes
        _, target, _, _ = augment_pair(gradient_face, None, 64, 64, config, rng)
        image = np.rint(target.transpose(1, 2, 0) * 255).astype(np.uint8)
        lightness = cv2.cvtColor(image, cv2.COLOR_RGB2LAB)[..., 0].astype(float)
        shifts.append((factor, (lightness - lightness_before).mean()))
    assert all(np.sign(factor) == np.sign(shift) for factor, shift in shifts if abs(factor) > 0.05)


def _colour_shift_per_pixel(face: np.ndarray, factors: np.ndarray) -> np.ndarray:
    """The L*a*b* shift written per pixel, as the lookup table must reproduce it."""
    lab = cv2.cvtColor(face, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab = np.where(factors > 0, lab + (255.0 - lab) * factors, lab * (1.0 + factors))
    return cv2.cvtColor(np.clip(np.rint(lab), 0, 255).astype(np.uint8), cv2.COLOR_LAB2RGB)


@pytest.mark.parametrize("seed", range(4))
def test_colour_table_equals_the_per_pixel_shift(seed):
    from phaze.data.augment import jitter_colour

    rng = np.random.default_rng(seed)
    face = rng.integers(0, 256, (40, 40, 3), dtype=np.uint8)
    config = AugmentConfig(color_lightness=30, color_ab=8, color_clahe_chance=0)
    factors = np.random.default_rng(seed).uniform(
        -np.array([0.3, 0.08, 0.08]), np.array([0.3, 0.08, 0.08])).astype(np.float32)
    shifted = jitter_colour(face, config, np.random.default_rng(seed))
    np.testing.assert_array_equal(shifted, _colour_shift_per_pixel(face, factors))
    assert not np.array_equal(shifted, face)


def test_bad_flip_chance_names_the_option():
    from phaze.errors import ConfigError

    with pytest.raises(ConfigError, match="augment.flip_chance.*150"):
        AugmentConfig(flip_chance=150)
