"""Combinations faceswap crashes on or mis-builds are rejected up front."""
import pytest

from phaze.config.presets import resolve_options
from phaze.errors import ConfigError
from phaze.model.design import plan_design


def rejected(**overrides) -> str:
    with pytest.raises(ConfigError) as error:
        plan_design(resolve_options(overrides=overrides))
    return str(error.value)


def test_fc_depth_one_with_different_min_and_max():
    message = rejected(fc_depth=1, fc_min_filters=512, fc_max_filters=1024)
    assert "fc_min_filters" in message and "fc_max_filters" in message


def test_last_dense_width_not_multiple_of_eight():
    # d = 3 → 9 × 1001 = 9009 nodes; the curve would round the last width down to 9008
    message = rejected(fc_dimensions=3, fc_min_filters=1001, fc_max_filters=1001,
                       output_size=96, fc_upsamples=0)
    assert "multiple of 8" in message


def test_fc_depth_zero_needs_matching_vector():
    message = rejected(fc_depth=0)
    assert "fc_depth = 0" in message and "bottleneck_size" in message


def test_scaled_filters_of_zero():
    # output 192 with d = 16 → T = 12: filters become multiples of 144, and 128 becomes 0
    message = rejected(output_size=192, fc_dimensions=16, fc_upsamples=0, fc_min_filters=128,
                       fc_max_filters=128)
    assert "fc_min_filters" in message and "gives 0" in message


def test_indivisible_decoder_reshape():
    # 128 upsample filters scale to 125; hybrid makes that 126 channels at 8 × 8, and
    # 8·8·126 values do not fill whole 5 × 5 cells (faceswap defect 6, docs/faceswap-differences.md)
    message = rejected(output_size=80, fc_upsampler="upscale_hybrid", fc_upsample_filters=128)
    assert "cannot be reshaped" in message


def test_group_norm_needs_multiples_of_32():
    message = rejected(dec_norm="group", dec_min_filters=16)
    assert "group" in message and "multiple of 32" in message


def test_output_size_multiple_of_16():
    assert "multiple of 16" in rejected(output_size=72)


def test_learn_mask_with_fc_upscales_and_gblock():
    message = rejected(learn_mask=True, dec_upscales_in_fc=1)
    assert "learn_mask" in message and "enable_gblock" in message


def test_encoder_too_small_for_its_depth():
    message = rejected(fs_original_use_alt=True, fs_original_depth=7, enc_scaling=7)
    assert "fs_original" in message and "64px" in message


def test_icnr_needs_filters_divisible_by_four():
    # cap_min, slope 0.9: [512, 48, 18, 18]; 18 filters cannot be split in 4 sub-pixels
    message = rejected(icnr_init=True, dec_slope_mode="cap_min", dec_filter_slope=0.9,
                       dec_min_filters=18)
    assert "icnr_init" in message


def test_unknown_encoder_lists_choices():
    message = rejected(enc_architecture="resnet9000")
    assert "enc_architecture" in message and "fs_original" in message


def test_learn_mask_with_fc_upscales_is_supported_without_gblock_or_shared_fc():
    design = plan_design(resolve_options("dny256", overrides={"learn_mask": True}))
    assert design.decoder.fc_stages == 1
