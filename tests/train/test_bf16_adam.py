"""Tests for the bfloat16-moment Adam/AdamW: same updates as torch's, unbiased rounding, resume."""
import io

import pytest
import torch
from torch import nn

from phaze.errors import ConfigError
from phaze.train.optim.bf16_adam import (
    BFloat16MomentAdam, _add_noise_truncate, _hash_noise, noise_seed, round_stochastic_,
)
from phaze.train.optim.config import OptimizerConfig
from phaze.train.optim import factory
from phaze.train.optim.factory import build_optimizer, moments_label

LR = 1e-2
STEPS = 20
# Each stored moment is within one bfloat16 ulp (relative 2**-7) of the float32 value, so m̂
# has a relative error below 2**-7 and √v̂ below 2**-8: a step of size ≤ lr·|m̂/√v̂| (about lr
# here) is off by at most ~1.5·2**-7·lr. Added up without cancelling over STEPS steps:
TOLERANCE = STEPS * LR * 1.5 * 2**-7   # 2.3e-3, about 5 % of the mean distance moved


def _weights() -> torch.Tensor:
    return torch.randn(64, 32, generator=torch.Generator().manual_seed(0))


def _run(optimizer: torch.optim.Optimizer, weight: torch.Tensor, steps: int,
         seed: int = 1) -> None:
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        weight.grad = torch.randn(weight.shape, generator=generator)
        optimizer.step()


def _saved(optimizer: torch.optim.Optimizer) -> dict:
    """The state dict as a checkpoint gives it back: a copy (state_dict shares the step tensors)."""
    buffer = io.BytesIO()
    torch.save(optimizer.state_dict(), buffer)
    buffer.seek(0)
    return torch.load(buffer)


def _pair(decoupled: bool, weight_decay: float, amsgrad: bool, kernel: str):
    ours, theirs = _weights().requires_grad_(), _weights().requires_grad_()
    reference = (torch.optim.AdamW if decoupled else torch.optim.Adam)(
        [theirs], lr=LR, weight_decay=weight_decay, amsgrad=amsgrad)
    optimizer = BFloat16MomentAdam([ours], lr=LR, weight_decay=weight_decay, amsgrad=amsgrad,
                                   decoupled_weight_decay=decoupled, kernel=kernel)
    return ours, optimizer, theirs, reference


# --- the update ---------------------------------------------------------------------------------

@pytest.mark.parametrize("kernel", ["eager", "native"])
@pytest.mark.parametrize("decoupled, weight_decay, amsgrad", [
    (False, 0.0, False), (False, 0.1, False), (True, 0.1, False), (False, 0.0, True)])
def test_update_matches_torch_adam(kernel, decoupled, weight_decay, amsgrad):
    ours, optimizer, theirs, reference = _pair(decoupled, weight_decay, amsgrad, kernel)
    start = theirs.detach().clone()

    _run(optimizer, ours, STEPS)
    _run(reference, theirs, STEPS)

    assert optimizer.fast_kernels(ours.device) == ([] if kernel == "eager" else [kernel])
    assert (ours - theirs).abs().max().item() < TOLERANCE
    assert (theirs - start).abs().mean().item() > 10 * TOLERANCE  # the weights did move


def test_native_and_compiled_kernels_agree_bit_for_bit():
    # The same arithmetic in the same order (torch.compile's loop is the C kernel's reference,
    # and what CUDA tensors use); amsgrad and decoupled decay take every branch.
    results = []
    for kernel in ("native", "compile"):
        ours, optimizer, _, _ = _pair(True, 0.1, True, kernel)
        _run(optimizer, ours, STEPS)
        assert optimizer.fast_kernels(ours.device) == [kernel]  # neither fell back
        results.append([ours.detach()] + [optimizer.state[ours][key] for key in
                                          ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")])

    for native, compiled in zip(*results):
        assert torch.equal(native, compiled)


def test_a_failing_kernel_gives_way_to_the_next_with_one_warning(caplog):
    ours, optimizer, theirs, reference = _pair(False, 0.0, False, "auto")

    def broken(*args):
        raise RuntimeError("no compiler\nsecond line")
    optimizer._fast_kernels = {"native": broken, "compile": broken}
    _run(optimizer, ours, 3)
    _run(reference, theirs, 3)

    warnings = [r.getMessage() for r in caplog.records if "kernel failed" in r.getMessage()]
    assert len(warnings) == 2 and "native" in warnings[0] and "compile" in warnings[1]
    assert "no compiler" in warnings[0] and "second line" not in warnings[0]
    assert optimizer.fast_kernels(ours.device) == []   # eager from now on
    assert (ours - theirs).abs().max().item() < TOLERANCE


def test_auto_kernel_is_native_on_the_cpu_and_compiled_elsewhere():
    optimizer = BFloat16MomentAdam([torch.zeros(3, requires_grad=True)], kernel="auto")

    assert optimizer.fast_kernels(torch.device("cpu")) == ["native", "compile"]
    assert optimizer.fast_kernels(torch.device("meta")) == ["compile"]
    with pytest.raises(ValueError, match="kernel 'fast'; allowed: auto, native, compile, eager"):
        BFloat16MomentAdam([torch.zeros(3, requires_grad=True)], kernel="fast")


def test_moments_are_stored_in_bfloat16_at_half_the_memory():
    model = nn.Linear(32, 16)
    float_adam = build_optimizer(model, OptimizerConfig(amsgrad=True, moments="float32"))
    half_adam = build_optimizer(model, OptimizerConfig(amsgrad=True, moments="bfloat16",
                                                       fused=False))
    for param in model.parameters():
        param.grad = torch.ones_like(param)
    float_adam.step()
    half_adam.step()

    def moment_bytes(optimizer):
        return sum(t.numel() * t.element_size() for s in optimizer.state.values()
                   for key, t in s.items() if key != "step")
    assert isinstance(half_adam, BFloat16MomentAdam)
    assert {t.dtype for s in half_adam.state.values() for k, t in s.items() if k != "step"} \
        == {torch.bfloat16}
    assert moment_bytes(half_adam) * 2 == moment_bytes(float_adam)


# --- stochastic rounding ------------------------------------------------------------------------

# 1 + 2**-9: a quarter of a bfloat16 ulp above 1, so round-to-nearest always gives 1.
QUARTER_ULP_ABOVE_ONE = 1.0 + 2.0**-9


def test_stochastic_rounding_is_unbiased_over_the_elements_of_a_tensor():
    value = torch.full((100_000,), QUARTER_ULP_ABOVE_ONE)
    target = torch.empty(value.shape, dtype=torch.bfloat16)
    low, high = _hash_noise(value.numel(), noise_seed(3, 17), value.device)

    for noise in (low, high):
        assert 0 <= noise.min().item() and noise.max().item() < 2**16
        round_stochastic_(target, value, noise)
        assert set(target.float().unique().tolist()) == {1.0, 1.0 + 2.0**-7}  # the neighbours
        # Nearest rounding is off by 2**-9 = 2e-3; noise of the mean ~2e-5.
        assert abs(target.float().mean().item() - QUARTER_ULP_ABOVE_ONE) < 1e-4
        assert torch.equal(_add_noise_truncate(value, noise), target)  # the compiled form
    assert abs(value.to(torch.bfloat16).float().mean().item() - QUARTER_ULP_ABOVE_ONE) > 1e-3


def test_stochastic_rounding_of_one_element_is_unbiased_over_steps():
    steps = 20_000
    value = torch.full((steps,), QUARTER_ULP_ABOVE_ONE)
    seeds = torch.tensor([noise_seed(5, step) for step in range(steps)], dtype=torch.int32)
    low, high = _hash_noise(1, seeds, value.device)   # element 0 of tensor 5, step by step

    for noise in (low, high):
        rounded = _add_noise_truncate(value, noise).float()
        assert abs(rounded.mean().item() - QUARTER_ULP_ABOVE_ONE) < 1e-4


# The compiled path costs a few ms a call, so it takes fewer steps (0.999**500 = 0.61).
@pytest.mark.parametrize("kernel, steps", [("eager", 2000), ("native", 2000), ("compile", 500)])
def test_second_moment_decays_like_beta_2_power_under_zero_gradients(kernel, steps):
    # After one step of ones, exp_avg_sq = 1 - β2; with zero gradients it is (1 - β2)·β2**t.
    # Each step changes it by 0.1 %, under half a bfloat16 ulp: nearest rounding would freeze it.
    weight = torch.zeros(4096, requires_grad=True)
    optimizer = BFloat16MomentAdam([weight], lr=LR, kernel=kernel)
    weight.grad = torch.ones_like(weight)
    optimizer.step()
    weight.grad = torch.zeros_like(weight)

    for _ in range(steps):
        optimizer.step()

    expected = (1 - 0.999) * 0.999**steps  # 0.135 of where it started after 2000
    measured = optimizer.state[weight]["exp_avg_sq"].float().mean().item()
    assert measured == pytest.approx(expected, rel=0.02)
    frozen = torch.tensor(1 - 0.999, dtype=torch.bfloat16)
    assert (frozen * 0.999).to(torch.bfloat16) == frozen  # what nearest rounding would keep


# --- configuration ------------------------------------------------------------------------------

@pytest.mark.parametrize("settings, match", [
    ({"moments": "float16"}, r"^optimizer option 'moments' is 'float16'; allowed: "
                             r"auto, float32, bfloat16$"),
    ({"moments": "bfloat16", "name": "lion"},
     r"^optimizer option 'moments' is 'bfloat16' but 'lion' .*allowed with: adam, adamw$"),
])
def test_moments_config_errors_are_one_line(settings, match):
    with pytest.raises(ConfigError, match=match):
        OptimizerConfig(**settings)


@pytest.mark.parametrize("name, decoupled", [("adam", False), ("adamw", True)])
def test_build_optimizer_selects_bfloat16_moments(name, decoupled):
    optimizer = build_optimizer(nn.Linear(4, 3), OptimizerConfig(name=name, moments="bfloat16",
                                                                 weight_decay=0.01))

    assert isinstance(optimizer, BFloat16MomentAdam)
    assert optimizer.kernel == "auto"  # `fused` None: the fast kernels
    assert optimizer.param_groups[0]["decoupled_weight_decay"] is decoupled
    assert optimizer.param_groups[0]["weight_decay"] == 0.01


def test_auto_moments_are_bfloat16_where_the_native_kernel_runs(monkeypatch):
    model = nn.Linear(4, 3)

    assert isinstance(build_optimizer(model, OptimizerConfig()), BFloat16MomentAdam)
    assert moments_label(build_optimizer(model, OptimizerConfig())) == "bfloat16 Adam moments"
    for float_moments in (OptimizerConfig(moments="float32"), OptimizerConfig(fused=False),
                          OptimizerConfig(name="adabelief")):
        assert not isinstance(build_optimizer(model, float_moments), BFloat16MomentAdam)
    assert not isinstance(build_optimizer(nn.Linear(4, 3).double(), OptimizerConfig()),
                          BFloat16MomentAdam)   # the kernel is for float32 weights
    monkeypatch.setattr(factory, "native_kernel_available", lambda: False)  # no C compiler
    assert not isinstance(build_optimizer(model, OptimizerConfig()), BFloat16MomentAdam)


# --- resume -------------------------------------------------------------------------------------

def test_resume_from_own_state_dict_continues_identically():
    first, optimizer, _, _ = _pair(False, 0.0, True, "eager")
    _run(optimizer, first, 5)
    second = first.detach().clone().requires_grad_()
    resumed = BFloat16MomentAdam([second], lr=LR, amsgrad=True)
    resumed.load_state_dict(_saved(optimizer))

    assert resumed.state[second]["exp_avg_sq"].dtype == torch.bfloat16  # back to half at once
    torch.manual_seed(7)   # the rounding noise does not depend on torch's generator
    _run(optimizer, first, 5, seed=2)
    torch.manual_seed(8)
    _run(resumed, second, 5, seed=2)

    assert torch.equal(first, second)
    assert torch.equal(optimizer.state[first]["exp_avg"], resumed.state[second]["exp_avg"])


def test_float32_adam_state_loads_into_bfloat16_moments():
    _, _, weight, adam = _pair(False, 0.0, False, "eager")
    _run(adam, weight, 5)
    ours = weight.detach().clone().requires_grad_()
    optimizer = BFloat16MomentAdam([ours], lr=LR)
    optimizer.load_state_dict(_saved(adam))

    _run(adam, weight, 5, seed=2)
    _run(optimizer, ours, 5, seed=2)

    assert set(optimizer.state[ours]) == {"step", "exp_avg", "exp_avg_sq"}
    assert optimizer.state[ours]["exp_avg"].dtype == torch.bfloat16
    assert optimizer.state[ours]["step"].item() == 10
    assert (ours - weight).abs().max().item() < TOLERANCE


def test_bfloat16_moment_state_loads_into_float32_adam():
    ours, optimizer, weight, adam = _pair(False, 0.0, False, "eager")
    _run(optimizer, ours, 5)
    _run(adam, weight, 5)
    resumed = torch.optim.Adam([ours], lr=LR)
    resumed.load_state_dict(_saved(optimizer))

    assert resumed.state[ours]["exp_avg"].dtype == torch.float32  # torch casts to the param's
    _run(resumed, ours, 5, seed=2)
    _run(adam, weight, 5, seed=2)

    assert resumed.state[ours]["step"].item() == 10
    assert (ours - weight).abs().max().item() < TOLERANCE


@pytest.mark.parametrize("kernel", ["native", "compile"])
def test_channels_last_weights_take_the_fast_path_and_match_torch_adam(kernel):
    generator = torch.Generator().manual_seed(0)
    start = torch.randn(8, 4, 3, 3, generator=generator).to(memory_format=torch.channels_last)
    ours, theirs = start.clone().requires_grad_(), start.clone().requires_grad_()
    optimizer = BFloat16MomentAdam([ours], lr=LR, kernel=kernel)
    reference = torch.optim.Adam([theirs], lr=LR)
    fast = optimizer._fast_kernels[kernel]
    calls = []
    optimizer._fast_kernels[kernel] = lambda *args: calls.append(1) or fast(*args)

    for weight, opt in ((ours, optimizer), (theirs, reference)):
        generator = torch.Generator().manual_seed(1)
        for _ in range(STEPS):
            weight.grad = torch.randn(weight.shape, generator=generator).to(
                memory_format=torch.channels_last)
            opt.step()

    assert len(calls) == STEPS
    assert optimizer.state[ours]["exp_avg"].is_contiguous(memory_format=torch.channels_last)
    assert (ours - theirs).abs().max().item() < TOLERANCE


def test_contiguous_moments_loaded_for_a_channels_last_weight_take_its_layout():
    weight = torch.randn(8, 4, 3, 3).to(memory_format=torch.channels_last).requires_grad_()
    optimizer = BFloat16MomentAdam([weight], lr=LR)
    optimizer.state[weight] = {"step": torch.tensor(3.0), "exp_avg": torch.ones(8, 4, 3, 3),
                               "exp_avg_sq": torch.ones(8, 4, 3, 3)}
    weight.grad = torch.zeros_like(weight)

    optimizer.step()

    moment = optimizer.state[weight]["exp_avg"]
    assert moment.dtype == torch.bfloat16 and moment.stride() == weight.stride()
