import numpy as np
import pytest

from phaze.convert.mask import (MaskOptions, blur, box_blend, erode_side, keep_visible,
                                process_mask, scaled_kernel, threshold)
from phaze.errors import ConfigError


def _square(size=64, lo=16, hi=48):
    mask = np.zeros((size, size), np.float32)
    mask[lo:hi, lo:hi] = 1.0
    return mask


def test_kernel_is_scaled_from_the_128px_basis():
    assert scaled_kernel(3, 128) == 3
    assert scaled_kernel(3, 256) == 7  # 6 → next odd
    assert scaled_kernel(3, 32) == 1


def test_blur_is_normalised_and_softens_edges():
    mask = _square()
    out = blur(mask, 3, 4)
    assert out[32, 32] == pytest.approx(1.0)
    assert 0.0 < out[32, 16] < 1.0 and out[32, 5] == 0.0


def test_threshold_snaps_the_ends():
    out = threshold(np.array([[0.03, 0.5, 0.97]], np.float32), 4.0)
    np.testing.assert_allclose(out, [[0.0, 0.5, 1.0]])


def test_erosion_moves_only_the_named_side():
    mask = _square()
    top = erode_side(mask, "top", 4)
    assert np.array_equal(np.nonzero(top.any(1))[0][[0, -1]], [20, 47])
    assert np.array_equal(np.nonzero(top.any(0))[0][[0, -1]], [16, 47])
    grown = erode_side(mask, "right", -5)
    assert np.array_equal(np.nonzero(grown.any(0))[0][[0, -1]], [16, 52])


def test_box_blend_zeroes_the_border():
    box = box_blend(64)  # border 64 // 32 + 1 = 3 px
    assert box[0].max() == 0 and box[:, -1].max() == 0
    assert box[32, 32] == pytest.approx(1.0, abs=1e-6)
    assert box[1, 32] < 0.5


def test_process_mask_keeps_range_and_fades_out_at_the_crop_edge():
    full = np.ones((64, 64), np.float32)
    out = process_mask(full, MaskOptions())
    assert out.min() >= 0 and out.max() <= 1 and out[0].max() == 0 and out[32, 32] == 1


def test_bad_threshold_is_refused():
    with pytest.raises(ConfigError, match="threshold"):
        MaskOptions(threshold_pct=60)


def test_keep_visible_is_zero_on_the_occluder_and_feathers_on_the_face_side():
    occlusion = np.ones((128, 128), np.float32)
    occlusion[40:80, 40:80] = 0.2                     # the segmenter's occluder
    mask = process_mask(np.ones((128, 128), np.float32), MaskOptions())
    kept = keep_visible(mask, occlusion)
    assert np.all(kept[40:80, 40:80] == 0.0)          # not one occluder pixel is swapped
    assert 0.0 < kept[60, 82] < 1.0                   # the soft edge lies beside it
    assert kept[60, 90] == pytest.approx(mask[60, 90])  # and ends a few px away
    assert np.all(kept <= mask)
