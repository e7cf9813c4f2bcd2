"""The matmul form of a small convolution equals torch's convolution, gradients included."""
from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from phaze.layers.conv import SamePadConv2d
from phaze.layers.conv_matmul import conv2d_as_matmul


def _pair(channels_last: bool, stride: int, kernel: int, size: int, bias: bool = True):
    generator = torch.Generator().manual_seed(kernel * 10 + stride)
    x = torch.randn(3, 5, size, size, generator=generator, dtype=torch.float64)
    weight = torch.randn(7, 5, kernel, kernel, generator=generator, dtype=torch.float64)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        weight = weight.contiguous(memory_format=torch.channels_last)
    b = torch.randn(7, generator=generator, dtype=torch.float64) if bias else None
    return [t.requires_grad_() if t is not None else None for t in (x, weight, b)]


@pytest.mark.parametrize("channels_last", [True, False])
@pytest.mark.parametrize("stride,kernel,size", [(1, 3, 6), (2, 5, 11), (2, 3, 8), (1, 1, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_matmul_convolution_equals_conv2d_with_gradients(channels_last, stride, kernel, size,
                                                         bias):
    x, weight, b = _pair(channels_last, stride, kernel, size, bias)
    ours = conv2d_as_matmul(x, weight, b, stride)
    x2, weight2, b2 = (t.detach().clone().requires_grad_() if t is not None else None
                       for t in (x, weight, b))
    theirs = F.conv2d(x2, weight2, b2, stride)
    assert ours.shape == theirs.shape
    torch.testing.assert_close(ours, theirs)
    grad = torch.randn_like(theirs)
    ours.backward(grad)
    theirs.backward(grad)
    torch.testing.assert_close(x.grad, x2.grad)
    torch.testing.assert_close(weight.grad, weight2.grad)
    if bias:
        torch.testing.assert_close(b.grad, b2.grad)


def test_channels_last_input_gives_channels_last_output_and_no_weight_copy():
    x, weight, b = _pair(True, 1, 3, 6)
    out = conv2d_as_matmul(x, weight, b, 1)
    assert out.is_contiguous(memory_format=torch.channels_last)
    matrix = weight.permute(0, 2, 3, 1).reshape(7, -1)
    assert matrix.data_ptr() == weight.data_ptr()  # a view: the weight is never copied


@pytest.mark.parametrize("reflect,stride,size", [(False, 2, 8), (True, 1, 4), (False, 1, 3)])
def test_same_pad_conv_takes_the_matmul_path_only_for_small_outputs(reflect, stride, size,
                                                                   monkeypatch):
    torch.manual_seed(0)
    conv = SamePadConv2d(4, 6, 3, stride=stride, reflect=reflect).double()
    x = torch.randn(2, 4, size, size, dtype=torch.float64)
    expected = conv(x)
    conv.matmul_max_positions = 16
    calls = []
    original = F.conv2d
    monkeypatch.setattr(F, "conv2d", lambda *a, **k: calls.append(1) or original(*a, **k))
    torch.testing.assert_close(conv(x), expected)
    assert not calls  # the output has at most 16 positions: no convolution ran
    big = torch.randn(2, 4, 12, 12, dtype=torch.float64)
    conv.matmul_max_positions = 0
    expected_big = conv(big)
    conv.matmul_max_positions = 16
    torch.testing.assert_close(conv(big), expected_big)
    assert calls  # 36 or 144 positions: the convolution


def test_under_bf16_autocast_the_weight_gradient_is_float32_in_the_weight_layout():
    x, weight, b = (t.detach().float().requires_grad_() for t in _pair(True, 2, 5, 11))
    with torch.autocast("cpu", dtype=torch.bfloat16):
        ours = conv2d_as_matmul(x, weight, b, 2)
        theirs = F.conv2d(x, weight, b, 2)
    assert ours.dtype == theirs.dtype == torch.bfloat16
    # Both round their inputs to bf16; the sums differ by rounding only.
    scale = float(theirs.detach().float().abs().max())
    torch.testing.assert_close(ours.float(), theirs.float(), rtol=0, atol=0.02 * scale)
    ours.float().sum().backward()
    assert weight.grad.dtype == torch.float32 and b.grad.dtype == torch.float32
    assert weight.grad.stride() == weight.stride()  # channels-last, as the optimiser expects
    expected = torch.autograd.grad(F.conv2d(x, weight, b, 2).sum(), weight)[0]
    torch.testing.assert_close(weight.grad, expected, rtol=0,
                               atol=0.02 * float(expected.abs().max()))


def test_forwards_sharing_weight_casts_cast_each_weight_once():
    from phaze.train.speed import sharing_weight_casts, use_small_convs_as_matmul

    conv = SamePadConv2d(4, 6, 3, stride=2)
    convs = use_small_convs_as_matmul(conv)
    x = torch.randn(2, 4, 8, 8)
    with torch.autocast("cpu", dtype=torch.bfloat16), sharing_weight_casts(convs):
        first, second = conv(x), conv(x + 1)
        assert list(conv.weight_casts) == [torch.bfloat16]
        source, cast = conv.weight_casts[torch.bfloat16]
        assert source is conv.weight and cast.dtype == torch.bfloat16
    assert conv.weight_casts is None  # dropped after the block; the graph holds what it needs
    (first.float().sum() + second.float().sum()).backward()
    assert cast.grad_fn is not None and conv.weight.grad.dtype == torch.float32
    expected = torch.autograd.grad(
        (F.conv2d(F.pad(x, (0, 1, 0, 1)), conv.weight, conv.bias, 2).sum()
         + F.conv2d(F.pad(x + 1, (0, 1, 0, 1)), conv.weight, conv.bias, 2).sum()), conv.weight)[0]
    torch.testing.assert_close(conv.weight.grad, expected, rtol=0,
                               atol=0.02 * float(expected.abs().max()))
