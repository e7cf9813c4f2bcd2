"""Activation checkpointing keeps fewer tensors for backward and computes the same gradients."""
import pytest
import torch

from phaze.config.parse import options_from_mapping
from phaze.model.phaze_a import build_model
from phaze.train.optim.config import OptimizerConfig
from phaze.train.speed import Speed, use_activation_checkpointing

# A G-Block with its Gaussian noise, Gaussian noise in the decoder and dropout in the FC: the
# recomputed forward must draw the same random values as the first one.
RANDOM_LAYERS = {"enable_gblock": True, "dec_gaussian": True, "fc_dropout": 0.2,
                 "fc_gblock_dropout": 0.2}


SGD = OptimizerConfig(name="sgd", learning_rate=1e-3)


@pytest.mark.parametrize("extra", [{}, RANDOM_LAYERS], ids=["plain", "random-layers"])
def test_recomputing_gives_the_same_losses_and_gradients(train_tiny, make_train_step,
                                                         random_pair_batch, extra):
    options = options_from_mapping({**train_tiny, **extra})
    plain = make_train_step(options, Speed(per_side_backward=True), SGD, float64=True)
    recomputing = make_train_step(
        options, Speed(per_side_backward=True, activation_checkpointing=True), SGD, float64=True)
    batch = random_pair_batch(plain, dtype=torch.float64)

    torch.manual_seed(5)
    assert plain(batch)
    torch.manual_seed(5)
    assert recomputing(batch)

    assert recomputing.meter.read() == pytest.approx(plain.meter.read(), rel=1e-9)
    for (name, a), b in zip(plain.model.named_parameters(), recomputing.model.parameters()):
        assert a.grad is not None, name
        torch.testing.assert_close(b.grad, a.grad, rtol=1e-7, atol=1e-12, msg=name)


def _saved_bytes(model, x: torch.Tensor) -> int:
    total = 0

    def pack(tensor):
        nonlocal total
        total += tensor.numel() * tensor.element_size()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        model.side_forward(x, "a")[0].mean()
    return total


def test_blocks_are_stages_and_far_fewer_activations_are_kept(train_tiny):
    torch.manual_seed(0)
    model = build_model(options_from_mapping({**train_tiny, **RANDOM_LAYERS}), "cpu")
    x = torch.rand(2, 3, model.input_size, model.input_size)
    names = [name for name, _ in model.named_parameters()]
    before = _saved_bytes(model, x)

    blocks = use_activation_checkpointing(model)

    assert [name for name, _ in model.named_parameters()] == names   # checkpoints still load
    block_names = {id(module): name for name, module in model.named_modules()}
    chosen = [block_names[id(block)] for block in blocks]
    assert "decoder_a.face_run.stages.0" in chosen and "encoder.backbone.0" in chosen
    # The G-Block's convolutional recursions, not its (larger) dense style network.
    assert "g_block_both.recursions.0" in chosen and "g_block_both.style.0" not in chosen
    assert "fc_both" in chosen
    assert _saved_bytes(model, x) < 0.5 * before


def test_forward_without_gradients_is_unchanged(train_tiny):
    torch.manual_seed(0)
    model = build_model(options_from_mapping(train_tiny), "cpu").eval()
    x = torch.rand(2, 3, model.input_size, model.input_size)
    with torch.no_grad():
        expected = model.side_forward(x, "b")[0]
        use_activation_checkpointing(model)
        torch.testing.assert_close(model.side_forward(x, "b")[0], expected, rtol=0, atol=0)


def test_recomputing_works_with_the_optimizer_inside_backward(train_tiny, make_train_step,
                                                              random_pair_batch):
    # Blocks are recomputed while later weights have already been updated in place; each
    # block needs only its own weights, which are updated after its own backward.
    options = options_from_mapping({**train_tiny, **RANDOM_LAYERS})
    plain = make_train_step(options, Speed(), SGD, float64=True)
    both = make_train_step(options, Speed(optimizer_in_backward=True,
                                          activation_checkpointing=True), SGD, float64=True)
    for step in (plain, both):
        torch.manual_seed(5)
        assert step(random_pair_batch(step, dtype=torch.float64))
    for (name, a), b in zip(plain.model.named_parameters(), both.model.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-9, atol=1e-12, msg=name)


def test_recomputing_under_bf16_works_with_small_convs_as_matmuls(train_tiny, make_train_step,
                                                                   random_pair_batch):
    # The forward's matmul convolutions must save the same tensors when a block is recomputed.
    from bf16_tolerance import assert_same_losses_within_bf16

    options = options_from_mapping(train_tiny)
    plain = make_train_step(options, Speed(small_convs_as_matmul=True), SGD, precision="bf16")
    recomputing = make_train_step(
        options, Speed(small_convs_as_matmul=True, activation_checkpointing=True), SGD,
        precision="bf16")
    batch = random_pair_batch(plain)
    assert plain(batch) and recomputing(batch)
    assert_same_losses_within_bf16(plain, recomputing)
