"""The training-memory estimate: its parts, how they scale, and `phaze summary --batch-size`."""
import pytest

from phaze.cli.main import main
from phaze.config.presets import resolve_options
from phaze.model.memory import estimate_training_memory
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
