"""The optimiser step inside backward makes the same update as the step after backward."""
import math

import pytest
import torch

from phaze.config.parse import options_from_mapping
from phaze.errors import ConfigError
from phaze.train.in_backward import in_backward_blocker
from phaze.train.optim.config import OptimizerConfig
from phaze.train.speed import Speed, SpeedConfig, resolve_speed
from phaze.train.step import TrainStep

AFTER = Speed(per_side_backward=False)    # the reference: one backward, then the optimiser
INSIDE = Speed(optimizer_in_backward=True)


@pytest.fixture
def step_of(train_tiny, make_train_step, train_precision):
    """TrainStep of the tiny design with `speed` and optimiser options (lr 1e-3 unless given),
    in float32 and in bf16 autocast: where the optimiser steps does not change what backward
    computes in either, so both keep float32-sized tolerances."""
    def make(speed: Speed, **optimizer) -> TrainStep:
        config = OptimizerConfig(**{"learning_rate": 1e-3, **optimizer})
        return make_train_step(options_from_mapping(train_tiny), speed, config,
                               precision=train_precision)

    return make


def _assert_same_training(reference: TrainStep, inside: TrainStep) -> None:
    for (name, a), b in zip(reference.model.named_parameters(), inside.model.parameters()):
        torch.testing.assert_close(b, a, rtol=1e-6, atol=1e-7, msg=name)
    for a, b in zip(reference.model.parameters(), inside.model.parameters()):
        for key, value in reference.parts.optimizer.state[a].items():
            torch.testing.assert_close(inside.parts.optimizer.state[b][key], value, msg=key)


@pytest.mark.parametrize("optimizer", [
    {"name": "adam"}, {"name": "adam", "fused": False, "weight_decay": 0.01},
    {"name": "adamw", "clipping": "norm", "clipping_value": 0.01},
    {"name": "lion", "clipping": "value", "clipping_value": 1e-4},
    {"name": "adabelief", "warmup_steps": 2}, {"name": "sgd"},
    {"name": "adamw", "moments": "bfloat16", "fused": False, "weight_decay": 0.01}],
    ids=["adam-fused", "adam-l2", "adamw-norm-clip", "lion-value-clip", "adabelief-warmup",
         "sgd", "adamw-bfloat16-moments"])
def test_inside_backward_trains_the_same_weights_and_state(step_of, random_pair_batch, optimizer):
    reference, inside = step_of(AFTER, **optimizer), step_of(INSIDE, **optimizer)
    for seed in (1, 2, 3):
        assert reference(random_pair_batch(reference, seed))
        assert inside(random_pair_batch(inside, seed))

    _assert_same_training(reference, inside)
    assert reference.meter.read() == pytest.approx(inside.meter.read(), rel=1e-6)
    moved = [not torch.equal(a, b) for a, b in zip(step_of(AFTER).model.parameters(),
                                                   inside.model.parameters())]
    assert sum(moved) > 0.9 * len(moved)   # the comparison is of trained weights


def test_every_gradient_is_freed_and_every_weight_stepped_once(step_of, random_pair_batch):
    step = step_of(INSIDE)
    assert step(random_pair_batch(step))
    params = [p for p in step.model.parameters() if p.requires_grad]
    assert all(p.grad is None for p in params)
    assert step._in_backward.stepped == len(params)
    assert all(int(step.parts.optimizer.state[p]["step"]) == 1 for p in params)


def test_a_non_finite_loss_moves_no_weight(step_of, random_pair_batch):
    step = step_of(INSIDE)
    before = [p.detach().clone() for p in step.model.parameters()]
    batch = random_pair_batch(step)
    batch["b"].inputs[0, 0, 0, 0] = math.nan

    assert step(batch) is False
    assert all(torch.equal(a, b) for a, b in zip(before, step.model.parameters()))
    assert step._in_backward.stepped == 0


def test_backward_outside_the_step_leaves_the_weights_alone(step_of, random_pair_batch):
    step = step_of(INSIDE)
    before = [p.detach().clone() for p in step.model.parameters()]
    step.model.side_forward(random_pair_batch(step)["a"].inputs, "a")[0].mean().backward()
    assert all(torch.equal(a, b) for a, b in zip(before, step.model.parameters()))
    assert any(p.grad is not None for p in step.model.parameters())


def test_a_restored_optimizer_state_is_stepped_in_place(step_of, random_pair_batch):
    reference, inside = step_of(AFTER), step_of(INSIDE)
    assert reference(random_pair_batch(reference)) and inside(random_pair_batch(inside))
    # load_state_dict replaces the optimiser's group dicts; the hooks must follow them.
    inside.parts.optimizer.load_state_dict(inside.parts.optimizer.state_dict())
    assert reference(random_pair_batch(reference, 2)) and inside(random_pair_batch(inside, 2))
    _assert_same_training(reference, inside)


def test_closing_removes_the_hooks(step_of, random_pair_batch):
    step = step_of(INSIDE)
    hooks = step._in_backward
    step.close()
    before = [p.detach().clone() for p in step.model.parameters()]
    hooks.arm()
    step.model.side_forward(random_pair_batch(step)["a"].inputs, "a")[0].mean().backward()
    assert all(torch.equal(a, b) for a, b in zip(before, step.model.parameters()))


@pytest.mark.parametrize("config, scaler, processes, phrase", [
    (OptimizerConfig(clipping="global_norm"), False, 1, "'global_norm'"),
    (OptimizerConfig(clipping="autoclip"), False, 1, "'autoclip'"),
    (OptimizerConfig(), True, 1, "fp16"),
    (OptimizerConfig(), False, 2, "2 processes"),
])
def test_settings_that_need_every_gradient_rule_it_out(config, scaler, processes, phrase):
    blocker = in_backward_blocker(config, scaler, processes)
    assert phrase in blocker
    assert not resolve_speed(SpeedConfig(), "cpu", None, blocker).optimizer_in_backward
    with pytest.raises(ConfigError, match="'optimizer_in_backward' is True but") as error:
        resolve_speed(SpeedConfig(optimizer_in_backward=True), "cpu", None, blocker)
    assert phrase in str(error.value) and "\n" not in str(error.value)


def test_inside_backward_takes_one_backward_over_both_sides():
    assert in_backward_blocker(OptimizerConfig(clipping="norm"), False, 1) is None
    speed = resolve_speed(SpeedConfig(optimizer_in_backward=True), "cpu")
    assert speed.optimizer_in_backward and not speed.per_side_backward
    with pytest.raises(ConfigError, match="at most one of them"):
        resolve_speed(SpeedConfig(optimizer_in_backward=True, per_side_backward=True), "cpu")
