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
    assert cpu.channels_last and cpu.per_side_backward and not cpu.compile
    assert resolve_speed(SpeedConfig(), "cuda").cudnn_benchmark


def test_a_switch_set_in_the_config_wins_over_the_default():
    assert not resolve_speed(SpeedConfig(channels_last=False), "cpu").channels_last


@pytest.mark.parametrize("fast", [
    Speed(channels_last=True), Speed(per_side_backward=True),
    Speed(channels_last=True, per_side_backward=True)], ids=["channels_last", "per_side",
                                                            "both"])
def test_fast_paths_learn_the_same_weights(train_tiny, fast):
    options = options_from_mapping(train_tiny)
    plain, quick = _step(options, Speed(), False), _step(options, fast, True)
    batch = _batch(plain)

    for _ in range(2):
        assert plain(batch) and quick(batch)

    for (name, a), b in zip(plain.model.named_parameters(), quick.model.parameters()):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6, msg=name)


def test_channels_last_converts_restored_optimizer_state(train_tiny):
    options = options_from_mapping(train_tiny)
    step = _step(options, Speed(), True)
    step(_batch(step))

    again = TrainStep(step.model, dataclasses.replace(step.parts, speed=Speed(channels_last=True)))

    weight = next(p for p in again.model.parameters() if p.dim() == 4)
    state = again.parts.optimizer.state[weight]["exp_avg"]
    assert state.is_contiguous(memory_format=torch.channels_last)
