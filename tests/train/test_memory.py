"""The training-memory estimate: its parts, how they scale, and `phaze summary --batch-size`."""
import pytest
import torch

from phaze.cli.main import main
from phaze.config.presets import resolve_options
from phaze.model.design import _probe_backbone
from phaze.train.memory import (_encoder_saved_bytes, estimate_training_memory,
                                saved_activation_bytes)
from phaze.model.phaze_a import build_model
from phaze.model.summary import count_parameters

PARTS = ("weights_bytes", "gradients_bytes", "optimizer_bytes", "activations_bytes")


@pytest.fixture(scope="module")
def original():
    return resolve_options("original")


def test_every_part_is_positive_and_the_total_is_their_sum(original):
    estimate = estimate_training_memory(original, 4)

    assert estimate["batch_size"] == 4
    assert all(estimate[part] > 0 for part in PARTS)
    assert estimate["total_bytes"] == sum(value for key, value in estimate.items()
                                          if key.endswith("_bytes") and key != "total_bytes")


def test_weights_are_four_bytes_per_parameter(original):
    trainable, frozen = count_parameters(build_model(original, "meta"))

    estimate = estimate_training_memory(original, 2)

    assert estimate["weights_bytes"] == (trainable + frozen) * 4
    assert estimate["gradients_bytes"] == trainable * 4
    assert estimate["optimizer_bytes"] == trainable * 4 * 2  # Adam: two moments


def test_activations_grow_about_linearly_with_batch_size(original):
    small = estimate_training_memory(original, 2)["activations_bytes"]
    large = estimate_training_memory(original, 8)["activations_bytes"]

    assert 3.5 < large / small <= 4.0


def test_weight_memory_does_not_depend_on_batch_size(original):
    small, large = (estimate_training_memory(original, b) for b in (1, 8))

    for part in ("weights_bytes", "gradients_bytes", "optimizer_bytes"):
        assert small[part] == large[part]


def test_half_precision_saves_activation_memory_at_a_large_batch(original):
    full = estimate_training_memory(original, 128, dtype_bytes=4)["activations_bytes"]
    half = estimate_training_memory(original, 128, dtype_bytes=2)["activations_bytes"]

    assert half < 0.8 * full


def test_lion_keeps_half_of_adams_state(original):
    adam = estimate_training_memory(original, 1, optimizer="adam")["optimizer_bytes"]
    lion = estimate_training_memory(original, 1, optimizer="lion")["optimizer_bytes"]

    assert lion * 2 == adam


def test_cpu_adds_workspace_for_weight_copies(original):
    assert estimate_training_memory(original, 1, device="cuda")["workspace_bytes"] == 0
    assert estimate_training_memory(original, 1, device="cpu")["workspace_bytes"] > 0


def test_bad_batch_size_is_refused(original):
    with pytest.raises(ValueError, match="batch_size"):
        estimate_training_memory(original, 0)


def test_summary_prints_the_estimate(capsys):
    code = main(["summary", "--preset", "original", "--batch-size", "8"])
    out = capsys.readouterr().out

    assert code == 0
    assert "training memory estimate at batch 8 per side" in out
    for part in ("weights", "gradients", "optimizer", "activations", "total"):
        assert f"  {part}" in out


def _saved_bytes_of_whole_sides(options, batch_size):
    """The count without any split or cache: each side's full forward and loss, one storage
    counted once (the estimate's definition, written out directly)."""
    from torch._subclasses.fake_tensor import FakeTensorMode

    from phaze.train.losses import FaceLoss
    from phaze.train.loss_config import LossConfig

    model = build_model(options, "meta")
    mode = FakeTensorMode(allow_non_fake_inputs=True)
    with mode:
        model.to_empty(device="cpu")
    weights = {p.untyped_storage()._cdata for p in model.parameters()}
    kept, per_side = [], {}
    for side in ("a", "b"):
        seen = {}

        def pack(tensor, seen=seen):
            key = tensor.untyped_storage()._cdata
            if key not in weights and key not in seen:
                seen[key] = tensor.untyped_storage().nbytes()
                kept.append(tensor)
            return tensor

        size_in, size_out = model.input_size, model.output_size
        with mode, torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
            outputs = model.side_forward(torch.empty(batch_size, 3, size_in, size_in), side)
            FaceLoss(LossConfig())(outputs[0], torch.empty(batch_size, 3, size_out, size_out),
                                   torch.empty(batch_size, 1, size_out, size_out))
        per_side[side] = sum(seen.values())
    return per_side


@pytest.mark.parametrize("preset", ["original", "lightweight", "dfl-saehd-liae"])
def test_encoder_pass_and_pathways_count_what_whole_sides_save(preset):
    options = resolve_options(preset)
    expected = _saved_bytes_of_whole_sides(options, 2)

    assert saved_activation_bytes(build_model(options, "meta"), 2) == expected


def test_a_second_design_with_the_same_encoder_reuses_its_probe_and_count(original):
    _encoder_saved_bytes.cache_clear()
    _probe_backbone.cache_clear()
    estimate_training_memory(original, 2)
    changed = estimate_training_memory(original.replace(split_decoders=True), 2)

    assert _probe_backbone.cache_info().misses == 1
    assert _encoder_saved_bytes.cache_info().hits == 1
    assert changed["activations_bytes"] == saved_activation_bytes(
        build_model(original.replace(split_decoders=True), "meta"), 2)["a"]


def test_a_changed_encoder_option_is_probed_again(original):
    small = build_model(original.replace(enc_scaling=20), "meta").design.feature_shape
    large = build_model(original.replace(enc_scaling=40), "meta").design.feature_shape

    assert small != large
