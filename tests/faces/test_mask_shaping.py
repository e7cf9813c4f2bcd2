"""Mask shaping has one sign convention (positive grows), read the same by training and convert."""
from __future__ import annotations

import numpy as np
import pytest

from phaze.convert.mask import MaskOptions, erode
from phaze.data.loss_weights import prepare_face_mask
from phaze.data.settings import MaskWeighting
from phaze.faces.mask_shaping import (basis_px, box_blur, gaussian_blur, grow, grow_side,
                                      threshold)


def square(size: int = 64, side: int = 32) -> np.ndarray:
    mask = np.zeros((size, size), np.float32)
    start = (size - side) // 2
    mask[start:start + side, start:start + side] = 1.0
    return mask


def test_positive_pixels_grow_the_mask_and_negative_shrink_it():
    mask = square()
    assert grow(mask, 4).sum() > mask.sum() > grow(mask, -4).sum()
    np.testing.assert_array_equal(grow(mask, 0), mask)


def test_growing_one_side_moves_only_that_edge_outward():
    mask = square()                       # rows and columns 16..47
    rows = np.flatnonzero(grow_side(mask, "top", 5).any(axis=1))
    assert (rows.min(), rows.max()) == (11, 47)
    cols = np.flatnonzero(grow_side(mask, "right", -5).any(axis=0))
    assert (cols.min(), cols.max()) == (16, 42)


def test_training_dilation_and_convert_erosion_are_opposite_signs_of_one_shaping():
    mask = square()
    trained = prepare_face_mask(mask, MaskWeighting(dilation=-6.25, threshold=0, blur_kernel=0))
    np.testing.assert_array_equal(trained, grow(mask, -4))   # 6.25 % of 64 px = 4 px
    converted = erode(mask, MaskOptions(erosion_pct=6.25))
    expected = mask
    for side in ("top", "bottom", "left", "right"):
        expected = grow_side(expected, side, -4)
    np.testing.assert_array_equal(converted, expected)
    assert converted.sum() < mask.sum() and trained.sum() < mask.sum()


def test_threshold_cuts_weak_weights_and_fills_strong_ones():
    mask = np.array([[0.02, 0.5, 0.97]], np.float32)
    np.testing.assert_array_equal(threshold(mask, 4.0), [[0.0, 0.5, 1.0]])
    np.testing.assert_array_equal(threshold(mask, 0.0), mask)


@pytest.mark.parametrize("kernel, size, expected", [(3, 128, 3), (3, 256, 6), (3, 32, 1)])
def test_kernels_on_the_128_px_basis_scale_with_the_face(kernel, size, expected):
    assert basis_px(kernel, size) == expected


def test_blurs_of_one_pixel_or_less_leave_the_mask_alone():
    mask = square()
    assert gaussian_blur(mask, 1) is mask and box_blur(mask, 1, 3) is mask
    assert box_blur(mask, 3, 0) is mask
    assert 0.0 < gaussian_blur(mask, 5)[16, 14] < 1.0 and 0.0 < box_blur(mask, 3, 1)[16, 15] < 1.0
