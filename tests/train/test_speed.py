"""Speed switches change how a step runs, never what it learns."""
import dataclasses

import pytest
import torch

from phaze.config.parse import options_from_mapping
from phaze.data.loader import SideBatch
from phaze.model.phaze_a import build_model
from phaze.train.losses import FaceLoss, LossConfig
from phaze.train.optim import GradientClipper, OptimizerConfig, build_optimizer, warmup_scheduler
from phaze.train.precision import resolve_precision
from phaze.train.speed import Speed, SpeedConfig, resolve_speed
from phaze.sides import SIDES
from phaze.train.step import StepParts, TrainStep


def _step(options, speed: Speed, fused: bool) -> TrainStep:
    torch.manual_seed(0)
    model = build_model(options, "cpu")
    config = OptimizerConfig(fused=fused)
    optimizer = build_optimizer(model, config)
    parts = StepParts(FaceLoss(LossConfig()), optimizer, warmup_scheduler(optimizer, 0),
                      GradientClipper(config), torch.amp.GradScaler("cpu", enabled=False),
                      resolve_precision("off", torch.device("cpu")), True, speed)
    return TrainStep(model, parts)


def _batch(step: TrainStep) -> dict[str, SideBatch]:
    generator = torch.Generator().manual_seed(1)
    size_in, size_out = step.model.input_size, step.model.output_size
    return {side: SideBatch(torch.rand(2, 3, size_in, size_in, generator=generator),
                            torch.rand(2, 3, size_out, size_out, generator=generator),
                            torch.ones(2, 1, size_out, size_out)) for side in SIDES}


def test_defaults_resolve_per_device():
    cpu = resolve_speed(SpeedConfig(), "cpu")
    assert not cpu.channels_last and cpu.per_side_backward and not cpu.compile
    assert resolve_speed(SpeedConfig(), "cpu", torch.bfloat16).channels_last
    assert resolve_speed(SpeedConfig(), "cuda").cudnn_benchmark


def test_a_switch_set_in_the_config_wins_over_the_default():
    assert resolve_speed(SpeedConfig(channels_last=True), "cpu").channels_last
    assert not resolve_speed(SpeedConfig(channels_last=False), "cpu", torch.bfloat16).channels_last


def _double(batch: dict[str, SideBatch]) -> dict[str, SideBatch]:
    return {side: SideBatch(b.inputs.double(), b.targets.double(), b.masks.double())
            for side, b in batch.items()}


@pytest.mark.parametrize("fast", [
    Speed(channels_last=True), Speed(per_side_backward=True),
    Speed(channels_last=True, per_side_backward=True)], ids=["channels_last", "per_side",
                                                            "both"])
def test_fast_paths_compute_the_same_losses_and_gradients(train_tiny, fast):
    # Both paths in float64, and gradients rather than weights after Adam steps: in float32
    # the loss's gradient is ill-conditioned (a reordered sum moves some gradients by up to a
    # few % of their largest value, differently on each data draw), and Adam's g / (sqrt(v) +
    # eps) turns any difference in a near-zero gradient into an lr-sized weight difference.
    # The image losses still run in float32 (FaceLoss), so float32-sized tolerances remain.
    options = options_from_mapping(train_tiny)
    plain, quick = _step(options, Speed(), False), _step(options, fast, True)
    plain.model.double()
    quick.model.double()
    batch = _double(_batch(quick))

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


def test_fused_adam_makes_the_same_update_from_the_same_gradients(train_tiny):
    options = options_from_mapping(train_tiny)
    plain, fused = _step(options, Speed(), False), _step(options, Speed(), True)
    generator = torch.Generator().manual_seed(2)
    for _ in range(2):
        for a, b in zip(plain.model.parameters(), fused.model.parameters()):
            a.grad = torch.randn(a.shape, generator=generator)
            b.grad = a.grad.clone()
        plain.parts.optimizer.step()
        fused.parts.optimizer.step()
    for (name, a), b in zip(plain.model.named_parameters(), fused.model.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-7, msg=name)


def test_channels_last_converts_restored_optimizer_state(train_tiny):
    options = options_from_mapping(train_tiny)
    step = _step(options, Speed(), True)
    step(_batch(step))

    again = TrainStep(step.model, dataclasses.replace(step.parts, speed=Speed(channels_last=True)))

    weight = next(p for p in again.model.parameters() if p.dim() == 4)
    state = again.parts.optimizer.state[weight]["exp_avg"]
    assert state.is_contiguous(memory_format=torch.channels_last)
