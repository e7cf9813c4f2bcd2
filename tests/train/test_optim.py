"""Tests for optimiser building, AdaBelief and Lion, gradient clipping and warm-up."""
import copy
import io

import pytest
import torch
from torch import nn

from phaze.errors import ConfigError
from phaze.train.optim import channels_last_adam
from phaze.train.optim.clipping import GradientClipper
from phaze.train.optim.config import OptimizerConfig
from phaze.train.optim.factory import OPTIMIZER_NAMES, build_optimizer
from phaze.train.optim.warmup import warmup_scheduler
from phaze.train.optim.groupwise import AdaBelief, Lion


def _config(name: str, **overrides) -> OptimizerConfig:
    # AdaBelief's usual epsilon is ~1e-16; Lion's paper uses beta_2 = 0.99.
    settings = {"adabelief": {"epsilon_exponent": -16}, "lion": {"beta_2": 0.99}}.get(name, {})
    return OptimizerConfig(name=name, learning_rate=1e-2, **{**settings, **overrides})


def _small_model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 3), nn.LayerNorm(3))


def _set_grads(model: nn.Module, seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    for param in model.parameters():
        param.grad = torch.randn(param.shape, generator=generator)


# --- optimisers ---------------------------------------------------------------------------------

@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_optimizer_minimises_a_quadratic(name):
    torch.manual_seed(0)
    weight = nn.Parameter(torch.randn(4, 4))
    target = torch.linspace(-1, 1, 16).view(4, 4)
    optimizer = build_optimizer([weight], _config(name))
    initial = ((weight - target) ** 2).sum().item()

    for _ in range(500):
        optimizer.zero_grad()
        loss = ((weight - target) ** 2).sum()
        loss.backward()
        optimizer.step()

    assert ((weight - target) ** 2).sum().item() < 0.01 * initial


def test_adam_uses_configured_epsilon_betas_and_fused_kernel_on_cpu():
    config = OptimizerConfig(epsilon_exponent=-5, beta_1=0.8, beta_2=0.99, amsgrad=True,
                             moments="float32")

    optimizer = build_optimizer(_small_model(), config)

    assert isinstance(optimizer, torch.optim.Adam)
    group = optimizer.param_groups[0]
    assert group["eps"] == pytest.approx(1e-5)
    assert group["betas"] == (0.8, 0.99)
    assert group["amsgrad"] is True
    assert group["fused"] is True
    assert group["lr"] == 5e-5


def test_adam_uses_foreach_when_fused_is_switched_off():
    optimizer = build_optimizer(_small_model(), OptimizerConfig(fused=False))

    assert optimizer.param_groups[0]["foreach"] is True
    assert not optimizer.param_groups[0]["fused"]


@pytest.mark.parametrize("name, optimizer_class", [
    ("adam", channels_last_adam.Adam), ("adamw", channels_last_adam.AdamW),
    ("adabelief", AdaBelief),
    ("lion", Lion),
])
def test_build_optimizer_returns_the_named_class(name, optimizer_class):
    # float32 moments: torch's own Adam (the bfloat16-moment one has its own tests).
    config = _config(name, moments="float32")
    assert type(build_optimizer(_small_model(), config)) is optimizer_class


def test_weight_decay_groups_split_by_rank():
    model = _small_model()

    optimizer = build_optimizer(model, OptimizerConfig(name="adamw", weight_decay=0.004))

    decay, no_decay = optimizer.param_groups
    assert [p.shape for p in decay["params"]] == [torch.Size([3, 4])]
    assert decay["weight_decay"] == 0.004
    assert sorted(p.ndim for p in no_decay["params"]) == [1, 1, 1]
    assert no_decay["weight_decay"] == 0.0


@pytest.mark.parametrize("name", ["adamw", "adabelief", "lion"])
def test_decoupled_weight_decay_shrinks_only_rank_2_tensors(name):
    model = _small_model()
    before = copy.deepcopy(model.state_dict())
    optimizer = build_optimizer(model, _config(name, weight_decay=0.5))
    for param in model.parameters():
        param.grad = torch.zeros_like(param)

    optimizer.step()

    after = model.state_dict()
    # Zero gradients leave only decay: p ← p·(1 − lr·wd).
    assert torch.allclose(after["0.weight"], before["0.weight"] * (1 - 1e-2 * 0.5))
    for key in ("0.bias", "1.weight", "1.bias"):
        assert torch.equal(after[key], before[key])


def test_frozen_parameters_are_left_out():
    model = _small_model()
    model[1].requires_grad_(False)

    optimizer = build_optimizer(model, OptimizerConfig())

    optimised = {id(p) for group in optimizer.param_groups for p in group["params"]}
    assert optimised == {id(model[0].weight), id(model[0].bias)}


def test_all_frozen_is_a_config_error():
    model = _small_model().requires_grad_(False)

    with pytest.raises(ConfigError, match="no trainable parameters"):
        build_optimizer(model, OptimizerConfig())


@pytest.mark.parametrize("name", ["adabelief", "lion"])
def test_state_dict_round_trip_gives_identical_next_steps(name):
    config = _config(name, weight_decay=0.01, amsgrad=name == "adabelief")
    model = _small_model()
    optimizer = build_optimizer(model, config)
    for step in range(3):
        _set_grads(model, seed=step)
        optimizer.step()
    buffer = io.BytesIO()
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, buffer)
    buffer.seek(0)
    saved = torch.load(buffer)
    resumed_model = _small_model()
    resumed_model.load_state_dict(saved["model"])
    resumed = build_optimizer(resumed_model, config)
    resumed.load_state_dict(saved["optimizer"])

    for step in range(3, 5):
        _set_grads(model, seed=step)
        _set_grads(resumed_model, seed=step)
        optimizer.step()
        resumed.step()

    for original, restored in zip(model.parameters(), resumed_model.parameters()):
        assert torch.equal(original, restored)
    # And the steps did move the weights.
    assert not torch.equal(model[0].weight, saved["model"]["0.weight"])


def test_adabelief_first_step_matches_the_update_rule():
    param = nn.Parameter(torch.tensor([1.0, -2.0]))
    param.grad = torch.tensor([0.5, -1.0])
    beta_1, beta_2, eps, lr = 0.9, 0.999, 1e-8, 0.1
    optimizer = AdaBelief([param], lr=lr, betas=(beta_1, beta_2), eps=eps)

    optimizer.step()

    grad = torch.tensor([0.5, -1.0])
    momentum = (1 - beta_1) * grad
    belief = (1 - beta_2) * (grad - momentum) ** 2 + eps
    update = (momentum / (1 - beta_1)) / (torch.sqrt(belief / (1 - beta_2)) + eps)
    assert torch.allclose(param.detach(), torch.tensor([1.0, -2.0]) - lr * update)


def test_lion_moves_each_element_by_the_learning_rate():
    param = nn.Parameter(torch.tensor([1.0, -2.0, 3.0]))
    param.grad = torch.tensor([0.3, -5.0, 1e-4])
    optimizer = Lion([param], lr=0.1)

    optimizer.step()

    assert torch.allclose(param.detach(), torch.tensor([0.9, -1.9, 2.9]))
    assert torch.allclose(optimizer.state[param]["exp_avg"], 0.01 * param.grad)


# --- configuration errors -----------------------------------------------------------------------

@pytest.mark.parametrize("overrides, message", [
    ({"name": "rmsprop"}, "optimizer 'rmsprop' is invalid: expected one of: adam, adamw, adabelief, lion, sgd"),
    ({"learning_rate": 0.5}, "'learning_rate' is 0.5; allowed: 1e-06 to 0.1"),
    ({"epsilon_exponent": 3}, "'epsilon_exponent' is 3"),
    ({"beta_1": 1.0}, "'beta_1' is 1.0; allowed: 0 <= value < 1"),
    ({"weight_decay": -0.1}, "'weight_decay' is -0.1"),
    ({"clipping": "clip"}, "clipping method 'clip' is invalid: expected one of: none, global_norm"),
    ({"clipping": "autoclip", "clipping_value": 11.0}, "'clipping_value' is 11.0"),
    ({"clipping_value": 0.0}, "'clipping_value' is 0"),
    ({"autoclip_history": 0}, "'autoclip_history' is 0"),
    ({"warmup_steps": -1}, "'warmup_steps' is -1"),
    ({"name": "lion", "amsgrad": True}, "'amsgrad'.*'lion'"),
])
def test_bad_options_are_config_errors_naming_option_and_value(overrides, message):
    with pytest.raises(ConfigError, match=message):
        OptimizerConfig(**overrides)


# --- clipping -----------------------------------------------------------------------------------

def _params_with_grads(*grads: list[float]) -> list[nn.Parameter]:
    params = []
    for values in grads:
        param = nn.Parameter(torch.zeros(len(values)))
        param.grad = torch.tensor(values)
        params.append(param)
    return params


def _clipper(mode: str, value: float = 1.0, history: int = 10000) -> GradientClipper:
    return GradientClipper(OptimizerConfig(clipping=mode, clipping_value=value,
                                           autoclip_history=history))


def test_none_reports_the_norm_and_leaves_gradients():
    params = _params_with_grads([3.0], [4.0])

    norm = _clipper("none").clip(params)

    assert norm.item() == pytest.approx(5.0)
    assert [p.grad.item() for p in params] == [3.0, 4.0]


def test_global_norm_scales_all_gradients_together():
    params = _params_with_grads([3.0], [4.0])

    norm = _clipper("global_norm", 1.0).clip(params)

    assert norm.item() == pytest.approx(5.0)
    assert [p.grad.item() for p in params] == pytest.approx([0.6, 0.8], rel=1e-5)


def test_norm_clips_each_tensor_on_its_own():
    params = _params_with_grads([3.0, 4.0], [0.3, 0.4])

    _clipper("norm", 1.0).clip(params)

    assert params[0].grad.tolist() == pytest.approx([0.6, 0.8], rel=1e-5)
    assert params[1].grad.tolist() == pytest.approx([0.3, 0.4])


def test_value_clamps_elements():
    params = _params_with_grads([3.0, -0.2, -4.0])

    _clipper("value", 0.5).clip(params)

    assert params[0].grad.tolist() == pytest.approx([0.5, -0.2, -0.5])


def test_autoclip_clips_to_the_percentile_of_the_history():
    clipper = _clipper("autoclip", 1.0)  # 10th percentile
    clipper.load_state_dict({"history": torch.arange(1.0, 100.0)})  # norms 1 … 99
    params = _params_with_grads([600.0, 800.0])  # norm 1000, recorded before clipping

    norm = clipper.clip(params)

    # Sorted history 1 … 99, 1000: the 10th percentile lies 0.9 of the way from 10 to 11.
    assert norm.item() == pytest.approx(1000.0)
    assert params[0].grad.norm().item() == pytest.approx(10.9, rel=1e-4)


def test_autoclip_does_not_clip_norms_below_the_percentile():
    clipper = _clipper("autoclip", 5.0)  # median
    clipper.load_state_dict({"history": torch.tensor([10.0, 20.0, 30.0, 40.0])})
    params = _params_with_grads([3.0, 4.0])

    clipper.clip(params)

    assert params[0].grad.tolist() == [3.0, 4.0]


def test_autoclip_history_is_a_ring_buffer_that_survives_resume():
    clipper = _clipper("autoclip", history=3)
    for norm in (1.0, 2.0, 3.0, 4.0, 5.0):
        clipper.clip(_params_with_grads([norm]))

    state = clipper.state_dict()
    resumed = _clipper("autoclip", history=3)
    resumed.load_state_dict(state)
    resumed.clip(_params_with_grads([6.0]))

    assert state["history"].tolist() == [3.0, 4.0, 5.0]
    assert resumed.history().tolist() == [4.0, 5.0, 6.0]


def test_autoclip_ignores_non_finite_norms():
    clipper = _clipper("autoclip", 5.0)
    clipper.load_state_dict({"history": torch.tensor([2.0, 2.0])})
    clipper.clip(_params_with_grads([float("inf")]))
    params = _params_with_grads([3.0, 4.0])

    clipper.clip(params)

    # History (2, 2, NaN, 5): the NaN is skipped and the median of 2, 2, 5 is 2.
    assert params[0].grad.norm().item() == pytest.approx(2.0, rel=1e-5)


# --- warm-up ------------------------------------------------------------------------------------

def test_warmup_rises_linearly_from_zero_then_stays():
    optimizer = build_optimizer(_small_model(), OptimizerConfig(learning_rate=1e-3))
    scheduler = warmup_scheduler(optimizer, warmup_steps=4)
    rates = []

    for _ in range(6):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()

    assert rates == pytest.approx([0.0, 2.5e-4, 5e-4, 7.5e-4, 1e-3, 1e-3])


def test_zero_warmup_steps_keeps_the_rate_constant():
    optimizer = build_optimizer(_small_model(), OptimizerConfig(learning_rate=1e-3))
    scheduler = warmup_scheduler(optimizer, warmup_steps=0)

    optimizer.step()
    scheduler.step()

    assert [group["lr"] for group in optimizer.param_groups] == [1e-3, 1e-3]


def test_warmup_state_round_trips():
    optimizer = build_optimizer(_small_model(), OptimizerConfig(learning_rate=1e-3))
    scheduler = warmup_scheduler(optimizer, warmup_steps=4)
    for _ in range(2):
        optimizer.step()
        scheduler.step()
    resumed_optimizer = build_optimizer(_small_model(), OptimizerConfig(learning_rate=1e-3))
    resumed_optimizer.load_state_dict(optimizer.state_dict())
    resumed = warmup_scheduler(resumed_optimizer, warmup_steps=4)
    resumed.load_state_dict(scheduler.state_dict())

    resumed_optimizer.step()
    resumed.step()

    assert resumed_optimizer.param_groups[0]["lr"] == pytest.approx(7.5e-4)
