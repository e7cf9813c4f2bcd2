"""Adam/AdamW with channels-last weights: the same update as torch's, without layout copies."""
from __future__ import annotations

import copy

import pytest
import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile

from phaze.train.optim import channels_last_adam

PAIRS = [(channels_last_adam.Adam, torch.optim.Adam),
         (channels_last_adam.AdamW, torch.optim.AdamW)]


def _params(seed: int = 0) -> list[nn.Parameter]:
    generator = torch.Generator().manual_seed(seed)
    conv = torch.randn(8, 3, 5, 5, generator=generator)
    return [nn.Parameter(conv.contiguous(memory_format=torch.channels_last)),
            nn.Parameter(torch.randn(8, generator=generator)),  # a bias: left as it is
            nn.Parameter(torch.randn(4, 6, generator=generator))]


def _step(optimizer: torch.optim.Optimizer, params: list[nn.Parameter], seed: int) -> None:
    generator = torch.Generator().manual_seed(seed)
    for param in params:  # gradients come in the weight's own layout, as autograd leaves them
        param.grad = torch.empty_like(param).copy_(torch.randn(param.shape,
                                                               generator=generator))
    optimizer.step()


@pytest.mark.parametrize("ours, theirs", PAIRS)
@pytest.mark.parametrize("kernel", [{"fused": True}, {"foreach": True}, {"foreach": False}])
@pytest.mark.parametrize("amsgrad", [False, True])
def test_the_update_equals_torchs(ours, theirs, kernel, amsgrad):
    mine, reference = _params(), _params()
    settings = dict(lr=1e-2, weight_decay=0.1, amsgrad=amsgrad, **kernel)
    optimizers = ours(mine, **settings), theirs(reference, **settings)
    for seed in range(3):
        for optimizer, params in zip(optimizers, (mine, reference)):
            _step(optimizer, params, seed)
    for got, want in zip(mine, reference):
        assert got.stride() == want.stride()  # the weight keeps its layout
        torch.testing.assert_close(got, want, rtol=1e-6, atol=1e-7)
    for got, want in zip(optimizers[0].state.values(), optimizers[1].state.values()):
        for name in want:
            torch.testing.assert_close(got[name], want[name], rtol=1e-6, atol=1e-7)


def _copies_in_step(optimizer_class) -> int:
    params = _params()
    optimizer = optimizer_class(params, lr=1e-2, fused=True)
    _step(optimizer, params, 0)  # the moments are made in the first step
    for param in params:
        param.grad = torch.ones_like(param)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        optimizer.step()
    return sum(event.count for event in prof.key_averages(group_by_input_shape=True)
               if event.key in ("aten::copy_", "aten::clone")
               and event.input_shapes and event.input_shapes[0])  # not the step counters


def test_the_fused_step_copies_nothing_where_torchs_copies_the_channels_last_weight():
    assert _copies_in_step(channels_last_adam.Adam) == 0
    assert _copies_in_step(torch.optim.Adam) > 0


def test_moments_saved_in_another_layout_are_used_in_the_weights_layout():
    """A state whose moments are NCHW (safetensors saves them contiguous) on channels-last
    weights: the update equals the all-NCHW one. (torch 2.13's fused CPU kernel mixes up
    positions in that case; `use_channels_last` converts restored state for it.)"""
    flat = [nn.Parameter(p.detach().contiguous()) for p in _params()]
    saved = torch.optim.Adam(flat, lr=1e-2, fused=True)
    _step(saved, flat, 0)
    state = saved.state_dict()
    mine = [nn.Parameter(p.detach().clone().contiguous(memory_format=torch.channels_last)
                         if p.dim() == 4 else p.detach().clone()) for p in flat]
    optimizer = channels_last_adam.Adam(mine, lr=1e-2, fused=True)
    optimizer.load_state_dict(copy.deepcopy(state))  # torch's load shares the tensors
    _step(optimizer, mine, 1)
    _step(saved, flat, 1)
    torch.testing.assert_close(mine[0], flat[0], rtol=1e-6, atol=1e-7)
    assert optimizer.state[mine[0]]["exp_avg"].stride() == mine[0].stride()
