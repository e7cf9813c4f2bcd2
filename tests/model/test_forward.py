"""Forward/backward passes: presets, every routing combination, and random valid designs."""
import itertools
import random

import pytest
import torch

from phaze.config.options import OPTION_FIELDS
from phaze.config.presets import list_presets, resolve_options
from phaze.errors import ConfigError
from phaze.model.phaze_a import build_model
from phaze.model.summary import summarize

FS_ORIGINAL_PRESETS = [p.name for p in list_presets()
                       if resolve_options(p.name).enc_architecture == "fs_original"]


def run_both_sides(model, batch=1):
    size = model.input_size
    face_a, face_b = torch.rand(batch, 3, size, size), torch.rand(batch, 3, size, size)
    outputs = model(face_a, face_b)
    sum(output.float().mean() for output in outputs).backward()
    return outputs


def assert_outputs_match_summary(model, outputs):
    expected = summarize(model).outputs
    assert [tuple(o.shape[2:]) + (o.shape[1],) for o in outputs] == [tuple(s) for s in expected]


@pytest.mark.parametrize("preset", FS_ORIGINAL_PRESETS)
def test_preset_trains_one_step(preset):
    torch.manual_seed(0)
    model = build_model(resolve_options(preset))
    outputs = run_both_sides(model)
    assert_outputs_match_summary(model, outputs)
    grads = [p.grad for p in model.parameters()]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)


ROUTING = list(itertools.product(("none", "full", "half"), (True, False), (True, False),
                                 (True, False), (True, False), (True, False)))


@pytest.mark.parametrize("shared_fc, split_fc, gblock, split_gblock, split_dec, bie", ROUTING)
def test_every_routing_combination_builds_and_runs(tiny, shared_fc, split_fc, gblock,
                                                   split_gblock, split_dec, bie):
    options = resolve_options(overrides={
        **tiny, "shared_fc": shared_fc, "split_fc": split_fc, "enable_gblock": gblock,
        "split_gblock": split_gblock, "split_decoders": split_dec, "bottleneck_in_encoder": bie})
    model = build_model(options)
    outputs = run_both_sides(model, batch=2)
    assert [tuple(o.shape) for o in outputs] == [(2, 3, 64, 64)] * 2
    names = set(model.submodels())
    assert ("fc_a" in names) == split_fc and ("fc_both" in names) == (not split_fc)
    assert ("fc_shared" in names) == (shared_fc == "full")
    assert ("g_block_both" in names) == (gblock and not split_gblock)
    assert ("decoder_a" in names) == split_dec


def test_swap_uses_the_other_sides_decoder(tiny):
    model = build_model(resolve_options(overrides={**tiny, "split_decoders": True,
                                                   "enable_gblock": False})).eval()
    faces = torch.rand(2, 3, 64, 64)
    with torch.no_grad():
        swapped = model.swap(faces, "a-to-b")[0]
        direct = model.decoder_b(model.fc_b(model.encoder(faces)))[0]
        own = model.side_forward(faces, "a")[0]
    assert torch.equal(swapped, direct)
    assert not torch.equal(swapped, own)


def test_half_shared_fc_with_split_fc_feeds_fc_a_to_side_b(tiny):
    model = build_model(resolve_options(overrides={**tiny, "shared_fc": "half",
                                                   "enable_gblock": False}))
    assert model.route("b") == {"encoder": "encoder", "fc": "fc_b", "shared_fc": "fc_a",
                                "fc_gblock": None, "g_block": None, "decoder": "decoder_both"}


# --- a broad random sample of valid designs ------------------------------------------------
RANDOM_CHOICES = {
    "output_size": [64, 64, 128], "shared_fc": ["none", "full", "half"],
    "enable_gblock": [True, False], "split_fc": [True, False], "split_gblock": [True, False],
    "split_decoders": [True, False], "enc_scaling": [4, 7],
    "bottleneck_type": ["dense", "average_pooling", "max_pooling", "flatten"],
    "bottleneck_norm": ["none", "instance", "layer", "rms"], "bottleneck_in_encoder": [True, False],
    "fc_depth": [1, 1, 2], "fc_dimensions": [2, 4], "fc_dropout": [0.0, 0.3],
    "fc_upsampler": list(OPTION_FIELDS["fc_upsampler"].metadata["choices"]),
    "fc_upsamples": [0, 1, 2],
    "dec_upscale_method": list(OPTION_FIELDS["dec_upscale_method"].metadata["choices"]),
    "dec_upscales_in_fc": [0, 0, 1, 2], "dec_norm": ["none", "batch", "group", "instance",
                                                      "layer", "rms"],
    "dec_min_filters": [32, 64, 64], "dec_slope_mode": ["full", "cap_max", "cap_min"],
    "dec_filter_slope": [-0.45, 0.3], "dec_res_blocks": [0, 1, 2], "dec_output_kernel": [1, 3, 5],
    "dec_gaussian": [True, False], "dec_skip_last_residual": [True, False],
    "fs_original_depth": [3, 4], "fs_original_use_alt": [False, False, True],
    "learn_mask": [False, True], "reflect_padding": [False, True], "icnr_init": [False, True],
    "conv_aware_init": [False, False, False, True],
}
SMALL = {"bottleneck_size": 128, "fc_min_filters": 128, "fc_max_filters": 128,
         "fc_upsample_filters": 128, "fc_gblock_min_nodes": 128, "fc_gblock_max_nodes": 128,
         "fs_original_min_filters": 16, "fs_original_max_filters": 256, "dec_max_filters": 256,
         "enc_load_weights": False}


def random_design(rng: random.Random) -> dict:
    design = {name: rng.choice(values) for name, values in RANDOM_CHOICES.items()}
    if design["fc_depth"] == 2:
        design["fc_min_filters"] = 64
    if design["bottleneck_type"] == "flatten":
        design["bottleneck_in_encoder"] = True   # one flatten-sized dense stack, not four
    if design["learn_mask"] and (design["enable_gblock"] or design["shared_fc"] != "none"):
        design["dec_upscales_in_fc"] = 0         # the one combination that is rejected
    return {**SMALL, **design}


MAX_PARAMETERS = 8_000_000   # keeps each draw to a second or two on a 2-core CPU


@pytest.mark.parametrize("seed", range(30))
def test_random_design_builds_or_is_rejected_clearly(seed):
    rng = random.Random(seed)
    built = 0
    for _ in range(50):   # draw until one is valid; invalid ones must fail with ConfigError
        try:
            options = resolve_options(overrides=random_design(rng))
            planned = build_model(options, "meta")
        except ConfigError as error:
            assert str(error)
            continue
        if sum(p.numel() for p in planned.parameters()) > MAX_PARAMETERS:
            continue
        model = build_model(options)
        outputs = run_both_sides(model, batch=2)
        assert_outputs_match_summary(model, outputs)
        built += 1
        break
    assert built == 1
