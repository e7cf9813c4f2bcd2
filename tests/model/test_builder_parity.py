"""Two designs faceswap builds that Phaze used to refuse or count differently."""
import pytest
import torch

from phaze.config.parse import options_from_mapping
from phaze.model.curve import filter_curve
from phaze.model.phaze_a import build_model
from phaze.model.summary import format_summary, summarize_options

# faceswap fixture c01's layout: 64 px, fs_original 4 → 16 filters, dense bottleneck 32 in the
# encoder, fc_both 32 → 128 (4·4·8), upsample2d ×1, split decoders, subpixel [16, 8, 8].
SMALL = {
    "output_size": 64, "enable_gblock": False, "split_fc": False, "split_decoders": True,
    "enc_scaling": 7, "enc_load_weights": False, "bottleneck_size": 32,
    "fc_depth": 1, "fc_min_filters": 8, "fc_max_filters": 8, "fc_dimensions": 4,
    "fc_upsampler": "upsample2d", "fc_upsamples": 1, "fc_upsample_filters": 16,
    "dec_min_filters": 8, "dec_max_filters": 16, "dec_res_blocks": 1,
    "fs_original_min_filters": 4, "fs_original_max_filters": 16,
}


def small(**changes):
    return options_from_mapping({**SMALL, **changes}, enforce_range=False)


def counts(model):
    return {name: sum(p.numel() for p in module.parameters())
            for name, module in model.submodels().items()}


# By hand, c01's decoder: subpixel 8→4·16 (4 672) + residual 16 (2 × 2 320) + subpixel
# 16→4·8 (4 640) + residual 8 (2 × 584) + last subpixel 8→4·8 (2 336, no residual: skip-last)
# = 17 456, plus the 5×5 output conv 8→3 (603). fc_both: Dense 32→128 = 4 224.
STAGES, FACE_OUT, DENSE = 17_456, 603, 4_224


@pytest.mark.parametrize("in_fc", [3, 5])
def test_upscales_in_fc_beyond_the_decoder_moves_all_of_them(in_fc, one_thread):
    model = build_model(small(dec_upscales_in_fc=in_fc)).eval()
    assert counts(model) == {"encoder": 18_968, "fc_both": DENSE + STAGES,
                             "decoder_a": FACE_OUT, "decoder_b": FACE_OUT}
    faces = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        swapped, = model.swap(faces)
    assert swapped.shape == (2, 3, 64, 64)
    text = format_summary(summarize_options(small(dec_upscales_in_fc=in_fc)))
    assert "all 3 in the FC models" in text and "output convolutions" in text


def test_upscales_in_fc_within_the_decoder_keeps_the_split():
    model = build_model(small(dec_upscales_in_fc=1), device="meta")
    # stage 1 + its residual block go to the FC; the FC's last (only) stage skips residuals
    assert counts(model)["fc_both"] == DENSE + 4_672
    # decoder: subpixel 16→4·8, residual 8, last subpixel (no residual), output conv
    assert counts(model)["decoder_a"] == 4_640 + 1_168 + 2_336 + FACE_OUT
    assert "first 1 in the FC models" in format_summary(
        summarize_options(small(dec_upscales_in_fc=1)))


def test_descending_gblock_curve_keeps_faceswaps_float_drops():
    # curve(384, 64, 4, −0.5): at x = 1/3, t = 0.5 / (5/6) = 0.6 and y = 384 − 0.6·320 = 192
    # exactly in real numbers, but faceswap's float64 order gives 191.99999…, floored to 184.
    assert filter_curve(384, 64, 4, -0.5) == [384, 184, 104, 64]
    # ascending: curve(64, 1024, 4, 0.5) at x = 2/3 is 448 in real numbers, 447.99… in float64
    assert filter_curve(64, 1024, 4, 0.5) == [64, 200, 440, 1024]


def test_descending_gblock_curve_gives_faceswaps_counts(one_thread):
    options = small(enable_gblock=True, split_fc=True, fc_gblock_depth=4,
                    fc_gblock_min_nodes=384, fc_gblock_max_nodes=64,
                    fc_gblock_filter_slope=-0.5)
    model = build_model(options, device="meta")
    # Dense 32→384, 384→184, 184→104, 104→64 (weights + biases)
    expected = (32 * 384 + 384) + (384 * 184 + 184) + (184 * 104 + 104) + (104 * 64 + 64)
    assert expected == 109_472
    assert counts(model)["fc_gblock"] == expected
    # the G-Block's style MLP reads the last width, 64: 64·512 + 2·512² + 3·512 = 558 592
    # of its 576 320 (the rest is the 8-channel convs and β/γ projections)
    assert counts(model)["g_block_both"] == 576_320
