"""Trainable parameter counts per sub-model equal faceswap's."""
import pytest

from phaze.config.presets import resolve_options
from phaze.model.phaze_a import build_model
from phaze.model.summary import count_parameters

PRESET_COUNTS = {
    "defaults": {"encoder": 33992960, "fc_a": 16793600, "fc_gblock": 1050112, "fc_b": 16793600,
                 "g_block_both": 23864832, "decoder_both": 31271107},
    "original": {"encoder": 33992960, "fc_both": 35670016, "decoder_a": 6199747,
                 "decoder_b": 6199747},
    "lightweight": {"encoder": 20884224, "fc_both": 8922112, "decoder_a": 10630019,
                    "decoder_b": 10630019},
    "dfaker": {"encoder": 33992960, "fc_both": 35670016, "decoder_a": 21833923,
               "decoder_b": 21833923},
    "iae": {"encoder": 17214720, "fc_a": 25175040, "fc_shared": 25175040, "fc_b": 25175040,
            "decoder_both": 25076163},
    "dfl-h128": {"encoder": 50769664, "fc_both": 26249216, "decoder_a": 15348611,
                 "decoder_b": 15348611},
    "dfl-sae-df": {"encoder": 49711796, "fc_both": 26249216, "decoder_a": 26897411,
                   "decoder_b": 26897411},
    "dfl-sae-liae": {"encoder": 16681140, "fc_a": 34375936, "fc_b": 34375936,
                     "decoder_both": 36187139},
    "dfl-saehd-df": {"encoder": 4306560, "fc_both": 14959872, "decoder_a": 16815747,
                     "decoder_b": 16815747},
    "dfl-saehd-liae": {"encoder": 4306560, "fc_a": 26249472, "fc_b": 26249472,
                       "decoder_both": 30971523},
    "dny256": {"encoder": 13895440, "fc_both": 11274240, "decoder_a": 2358035,
               "decoder_b": 2358035},
    "dny512": {"encoder": 18615056, "fc_both": 15993856, "decoder_a": 2358035,
               "decoder_b": 2358035},
    "dny1024": {"encoder": 23334672, "fc_both": 15993856, "decoder_a": 7077651,
                "decoder_b": 7077651},
}

# With learn_mask only the decoders change; totals given for the rest.
MASK_DECODER_COUNTS = {
    "defaults": 56344068, "original": 12396292, "dfaker": 37469700, "iae": 50149124,
    "dfl-sae-liae": 60415812,
}
MASK_TOTALS = {
    "defaults": 148839172, "original": 94455560, "lightweight": 72313608, "dfaker": 144602376,
    "iae": 142888964, "dfl-h128": 138400520, "dfl-sae-df": 159633724,
    "dfl-sae-liae": 145848824, "dfl-saehd-df": 74139016, "dfl-saehd-liae": 112553348,
}
# faceswap cannot build DNY presets with a mask unless dec_upscales_in_fc = 0.
MASK_DNY_NO_FC_UPSCALES = {"dny256": 68424472, "dny512": 92022552}


def counts(options) -> dict[str, int]:
    model = build_model(options, "meta")
    return {name: count_parameters(module)[0] for name, module in model.submodels().items()}


def preset_options(name, **overrides):
    return resolve_options(None if name == "defaults" else name, overrides=overrides)


@pytest.mark.parametrize("preset", sorted(PRESET_COUNTS))
def test_preset_submodel_counts(preset):
    assert counts(preset_options(preset)) == PRESET_COUNTS[preset]


@pytest.mark.parametrize("preset", sorted(MASK_TOTALS))
def test_preset_total_with_learn_mask(preset):
    assert sum(counts(preset_options(preset, learn_mask=True)).values()) == MASK_TOTALS[preset]


@pytest.mark.parametrize("preset", sorted(MASK_DECODER_COUNTS))
def test_mask_changes_only_decoders(preset):
    with_mask = counts(preset_options(preset, learn_mask=True))
    without = PRESET_COUNTS[preset]
    for name, count in with_mask.items():
        expected = MASK_DECODER_COUNTS[preset] if name.startswith("decoder") else without[name]
        assert count == expected, name


@pytest.mark.parametrize("preset", sorted(MASK_DNY_NO_FC_UPSCALES))
def test_dny_with_mask_and_no_fc_upscales(preset):
    options = preset_options(preset, learn_mask=True, dec_upscales_in_fc=0)
    assert sum(counts(options).values()) == MASK_DNY_NO_FC_UPSCALES[preset]


_DEFAULT = PRESET_COUNTS["defaults"]


def _variant(**changes):
    return {**_DEFAULT, **changes}


VARIANTS = [
    ({"dec_upscale_method": "resize_images"}, _variant(decoder_both=18735427)),
    ({"dec_upscale_method": "upscale_fast"}, _variant(decoder_both=37538947)),
    ({"dec_upscale_method": "upscale_hybrid"}, _variant(decoder_both=21869347)),
    ({"dec_upscale_method": "upscale_dny"}, _variant(decoder_both=23991619)),
    ({"dec_norm": "batch"}, _variant(decoder_both=31273027)),
    ({"dec_norm": "group"}, _variant(decoder_both=31273027)),
    ({"dec_norm": "instance"}, _variant(decoder_both=31271115)),
    ({"dec_norm": "layer"}, _variant(decoder_both=31273027)),
    ({"dec_norm": "rms"}, _variant(decoder_both=31272067)),
    ({"dec_res_blocks": 2, "dec_skip_last_residual": False}, _variant(decoder_both=37613763)),
    ({"dec_slope_mode": "cap_min", "dec_filter_slope": 0.5, "output_size": 256},
     _variant(decoder_both=31492675)),
    ({"dec_upscales_in_fc": 2},
     _variant(fc_a=45109248, fc_b=45109248, g_block_both=2625024, decoder_both=1775299)),
    ({"bottleneck_type": "average_pooling"}, _variant(encoder=17214720)),
    ({"bottleneck_type": "max_pooling", "bottleneck_norm": "layer"}, _variant(encoder=17216768)),
    ({"bottleneck_type": "flatten"},
     _variant(encoder=17214720, fc_a=268451840, fc_gblock=8914432, fc_b=268451840)),
    ({"bottleneck_norm": "instance"}, _variant(encoder=33992962)),
    ({"bottleneck_norm": "rms"}, _variant(encoder=33993984)),
    ({"bottleneck_in_encoder": False},
     _variant(encoder=17214720, fc_a=33571840, fc_gblock=17828352, fc_b=33571840)),
    ({"fc_depth": 3, "fc_min_filters": 256, "fc_max_filters": 1024},
     _variant(fc_a=276857856, fc_b=276857856)),
    ({"fc_upsampler": "subpixel"},
     _variant(fc_a=35670016, fc_b=35670016, g_block_both=7083520, decoder_both=21833923)),
    ({"fc_upsampler": "resize_images", "fc_upsamples": 2},
     _variant(fc_a=30951424, fc_b=30951424, g_block_both=7083520, decoder_both=18589843)),
    ({"fc_upsampler": "upscale_hybrid"},
     _variant(fc_a=28591360, fc_b=28591360, g_block_both=7083520, decoder_both=21833923)),
    ({"fc_upsampler": "upscale_fast"},
     _variant(fc_a=40389120, fc_b=40389120, g_block_both=7083520, decoder_both=21833923)),
    ({"fc_upsamples": 0}, _variant(decoder_both=34433443)),
    ({"output_size": 192},
     _variant(fc_a=16531200, fc_b=16531200, g_block_both=23181696, decoder_both=48589219)),
    ({"output_size": 192, "fc_dimensions": 8, "fc_min_filters": 1280, "fc_max_filters": 1280},
     _variant(fc_a=75571200, fc_b=75571200, g_block_both=29698560, decoder_both=50145475)),
    ({"shared_fc": "full"},
     _variant(fc_shared=16793600, g_block_both=88884736, decoder_both=50145475)),
    ({"shared_fc": "half", "split_gblock": True, "split_decoders": True},
     {"encoder": 33992960, "fc_a": 16793600, "fc_b": 16793600, "fc_gblock": 1050112,
      "g_block_a": 88884736, "g_block_b": 88884736, "decoder_a": 50145475,
      "decoder_b": 50145475}),
    ({"split_fc": False, "shared_fc": "half", "enable_gblock": False},
     {"encoder": 33992960, "fc_both": 16793600, "decoder_both": 50145475}),
    ({"fs_original_use_alt": True, "fs_original_min_filters": 64,
      "fs_original_max_filters": 512}, _variant(encoder=21986880)),
    ({"enc_scaling": 13, "fs_original_depth": 5}, _variant(encoder=60208384)),
]


@pytest.mark.parametrize("changes, expected", VARIANTS, ids=[
    ",".join(f"{k}={v}" for k, v in changes.items()) for changes, _ in VARIANTS])
def test_single_option_variations(changes, expected):
    assert counts(resolve_options(overrides=changes)) == expected


def test_batch_norm_statistics_are_non_trainable():
    model = build_model(resolve_options(overrides={"dec_norm": "batch"}), "meta")
    assert count_parameters(model.decoder_both) == (31273027, 1920)
