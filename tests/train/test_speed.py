"""Speed switches change how a step runs, never what it learns."""
import dataclasses

import pytest
import torch

from bf16_tolerance import BF16_STEP, assert_same_losses_within_bf16

from phaze.config.parse import options_from_mapping
from phaze.train.optim.config import OptimizerConfig
from phaze.config.presets import resolve_options
from phaze.train.speed import Speed, SpeedConfig, resolve_model_speed, resolve_speed
from phaze.train.step import TrainStep


def _torch_adam(fused: bool) -> OptimizerConfig:
    """torch's float32 Adam, fused or not (bfloat16 moments would follow the weights' dtype
    as built, not the float64 these tests switch to)."""
    return OptimizerConfig(fused=fused, moments="float32")


def test_defaults_resolve_per_device():
    cpu = resolve_speed(SpeedConfig(), "cpu")
    assert not cpu.channels_last and cpu.per_side_backward and not cpu.compile
    assert cpu.small_convs_as_matmul
    assert not resolve_speed(SpeedConfig(), "cuda", torch.bfloat16).small_convs_as_matmul
    assert resolve_speed(SpeedConfig(), "cpu", torch.bfloat16).channels_last
    assert resolve_speed(SpeedConfig(), "cuda").cudnn_benchmark


def test_a_bf16_cpu_steps_inside_backward_by_default_where_that_saves_memory():
    saves = resolve_speed(SpeedConfig(), "cpu", torch.bfloat16, None, in_backward_saves_memory=True)
    assert saves.optimizer_in_backward and not saves.per_side_backward
    assert resolve_speed(SpeedConfig(), "cpu", torch.bfloat16).per_side_backward  # no saving
    for off in [resolve_speed(SpeedConfig(), "cpu", None, None, True),         # float32
                resolve_speed(SpeedConfig(), "cuda", torch.bfloat16, None, True),  # unmeasured
                resolve_speed(SpeedConfig(), "cpu", torch.bfloat16, "clipping", True),
                resolve_speed(SpeedConfig(per_side_backward=True), "cpu", torch.bfloat16,
                              None, True),
                resolve_speed(SpeedConfig(optimizer_in_backward=False), "cpu", torch.bfloat16,
                              None, True)]:
        assert not off.optimizer_in_backward


def test_the_in_backward_default_follows_the_memory_estimate():
    def speed(preset):
        return resolve_model_speed(SpeedConfig(), "cpu", torch.bfloat16, None,
                                   resolve_options(preset), 16)
    assert speed("iae").optimizer_in_backward            # small activations, large weights
    assert not speed("dfl-saehd-liae").optimizer_in_backward  # 0.96 GiB a side, 0.33 of grads


def test_the_log_names_the_switches_that_are_on():
    assert Speed(channels_last=True, optimizer_in_backward=True).label == \
        "channels-last, optimiser in backward"
    assert Speed().label == ""


def test_the_tiny_design_has_a_small_convolution_that_takes_the_matmul_path(
        train_tiny, monkeypatch):
    # Otherwise the "matmul" cases above would compare the convolution with itself.
    import phaze.layers.conv as conv_module
    from phaze.model.phaze_a import build_model
    from phaze.train.speed import use_small_convs_as_matmul

    model = build_model(options_from_mapping(train_tiny))
    assert use_small_convs_as_matmul(model)
    shapes = []
    original = conv_module.conv2d_as_matmul
    monkeypatch.setattr(conv_module, "conv2d_as_matmul",
                        lambda x, *rest: shapes.append(x.shape) or original(x, *rest))
    with torch.no_grad():
        model.side_forward(torch.rand(2, 3, model.input_size, model.input_size), "a")
    assert shapes


def test_a_switch_set_in_the_config_wins_over_the_default():
    assert resolve_speed(SpeedConfig(channels_last=True), "cpu").channels_last
    assert not resolve_speed(SpeedConfig(channels_last=False), "cpu", torch.bfloat16).channels_last


@pytest.mark.parametrize("fast", [
    Speed(channels_last=True), Speed(per_side_backward=True),
    Speed(channels_last=True, per_side_backward=True), Speed(small_convs_as_matmul=True),
    Speed(channels_last=True, small_convs_as_matmul=True)],
    ids=["channels_last", "per_side", "both", "matmul", "matmul_channels_last"])
def test_fast_paths_compute_the_same_losses_and_gradients(train_tiny, fast, make_train_step,
                                                           random_pair_batch):
    # Both paths in float64, and gradients rather than weights after Adam steps: in float32
    # the loss's gradient is ill-conditioned (a reordered sum moves some gradients by up to a
    # few % of their largest value, differently on each data draw), and Adam's g / (sqrt(v) +
    # eps) turns any difference in a near-zero gradient into an lr-sized weight difference.
    # The image losses still run in float32 (FaceLoss), so float32-sized tolerances remain.
    options = options_from_mapping(train_tiny)
    plain = make_train_step(options, Speed(), _torch_adam(fused=False))
    quick = make_train_step(options, fast, _torch_adam(fused=True))
    plain.model.double()
    quick.model.double()
    batch = random_pair_batch(quick, dtype=torch.float64)

    assert plain(batch) and quick(batch)

    losses_plain, losses_quick = plain.meter.read(), quick.meter.read()
    assert losses_plain.keys() == losses_quick.keys()
    for key, value in losses_plain.items():
        assert losses_quick[key] == pytest.approx(value, rel=1e-5), key
    for (name, a), b in zip(plain.model.named_parameters(), quick.model.parameters()):
        assert (a.grad is None) == (b.grad is None), name
        if a.grad is not None:
            scale = float(a.grad.abs().max())
            torch.testing.assert_close(b.grad, a.grad, rtol=1e-5, atol=1e-5 * scale + 1e-15,
                                       msg=name)


@pytest.mark.parametrize("fast", [
    Speed(channels_last=True), Speed(per_side_backward=True),
    Speed(channels_last=True, small_convs_as_matmul=True)],
    ids=["channels_last", "per_side", "matmul_channels_last"])
def test_fast_paths_under_bf16_differ_by_bf16_rounding_only(train_tiny, fast, make_train_step,
                                                            random_pair_batch):
    # Under bf16 autocast another memory layout or backward order rounds differently: each
    # bf16 rounding moves a value by up to BF16_STEP of it, and the differences add up
    # through the layers. A path that computed something else would be off by the gradient
    # itself (relative difference ~1), so 16 rounding steps still tell the two apart.
    options = options_from_mapping(train_tiny)
    plain = make_train_step(options, Speed(), _torch_adam(fused=False), precision="bf16")
    quick = make_train_step(options, fast, _torch_adam(fused=True), precision="bf16")
    batch = random_pair_batch(quick)

    assert plain(batch) and quick(batch)

    assert_same_losses_within_bf16(plain, quick)
    for submodel in plain.model.submodels():
        grads = [(a.grad, b.grad) for a, b in zip(
            plain.model.submodels()[submodel].parameters(),
            quick.model.submodels()[submodel].parameters()) if a.grad is not None]
        apart = sum(float(((a - b) ** 2).sum()) for a, b in grads) ** 0.5
        size = sum(float((a ** 2).sum()) for a, _ in grads) ** 0.5
        assert apart <= 16 * BF16_STEP * size, (submodel, apart / size)


def test_fused_adam_makes_the_same_update_from_the_same_gradients(train_tiny,
                                                                   make_train_step):
    options = options_from_mapping(train_tiny)
    plain = make_train_step(options, Speed(), _torch_adam(fused=False))
    fused = make_train_step(options, Speed(), _torch_adam(fused=True))
    generator = torch.Generator().manual_seed(2)
    for _ in range(2):
        for a, b in zip(plain.model.parameters(), fused.model.parameters()):
            a.grad = torch.randn(a.shape, generator=generator)
            b.grad = a.grad.clone()
        plain.parts.optimizer.step()
        fused.parts.optimizer.step()
    for (name, a), b in zip(plain.model.named_parameters(), fused.model.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-7, msg=name)


def test_channels_last_converts_restored_optimizer_state(train_tiny, make_train_step,
                                                          random_pair_batch):
    options = options_from_mapping(train_tiny)
    step = make_train_step(options, Speed(), _torch_adam(fused=True))
    step(random_pair_batch(step))

    again = TrainStep(step.model, dataclasses.replace(step.parts, speed=Speed(channels_last=True)))

    weight = next(p for p in again.model.parameters() if p.dim() == 4)
    state = again.parts.optimizer.state[weight]["exp_avg"]
    assert state.is_contiguous(memory_format=torch.channels_last)
