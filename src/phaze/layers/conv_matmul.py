"""A convolution computed as one matrix product over image columns, in channels-last order.

For outputs of a few positions per image (the 4×4 maps at the bottom of an encoder, or the first
upscale after the fully connected layers), oneDNN's bf16 convolution spends most of its time on
the weight gradient and on reordering multi-million-element weights into its blocked layouts:
2.5× slower than the same arithmetic as a matmul (docs/performance.md). Here the columns are
built in (kernel row, kernel column, channel) order, which is the memory order of both a
channels-last input and a channels-last weight, so neither needs a copy: the weight becomes a
(out, k·k·in) view and the output comes back channels-last.
"""
from __future__ import annotations

import torch


def conv2d_as_matmul(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None,
                     stride: int) -> torch.Tensor:
    """F.conv2d(x, weight, bias, stride) without padding (pad x first), groups 1."""
    batch, _, height, width = x.shape
    kernel_h, kernel_w = weight.shape[2:]
    out_h, out_w = (height - kernel_h) // stride + 1, (width - kernel_w) // stride + 1
    pixels = x.permute(0, 2, 3, 1)  # (N, H, W, C): a view of channels-last memory
    span_h, span_w = stride * (out_h - 1) + 1, stride * (out_w - 1) + 1
    columns = torch.cat([pixels[:, i:i + span_h:stride, j:j + span_w:stride]
                         for i in range(kernel_h) for j in range(kernel_w)], dim=3)
    out = _ColumnsTimesWeight.apply(columns.reshape(batch * out_h * out_w, -1), weight, bias)
    return out.view(batch, out_h, out_w, -1).permute(0, 3, 1, 2)


def _compute_dtype(tensor: torch.Tensor) -> torch.dtype:
    device = tensor.device.type
    return torch.get_autocast_dtype(device) if torch.is_autocast_enabled(device) \
        else tensor.dtype


def _matrix(weight: torch.Tensor) -> torch.Tensor:
    """(out, k·k·in) in (kernel row, kernel column, channel) order: a view when channels-last."""
    return weight.permute(0, 2, 3, 1).reshape(weight.shape[0], -1)


class _ColumnsTimesWeight(torch.autograd.Function):
    """columns @ weightᵀ + bias in the autocast dtype, keeping the weight as given (not a cast
    copy) for backward: a float32 weight is cast again there, a cast shared by both sides
    (`SamePadConv2d.weight_casts`) is kept once and gets its gradient in its own dtype, so the
    two sides' gradients add up in bf16 before one cast to float32, as with autocast's own
    cache."""

    @staticmethod
    def forward(ctx, columns: torch.Tensor, weight: torch.Tensor,
                bias: torch.Tensor | None) -> torch.Tensor:
        dtype = _compute_dtype(columns)
        columns = columns.to(dtype)
        ctx.save_for_backward(columns, weight)
        ctx.dtype, ctx.has_bias = dtype, bias is not None
        matrix_t = _matrix(weight).to(dtype).t()
        return torch.addmm(bias.to(dtype), columns, matrix_t) if bias is not None \
            else columns @ matrix_t

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        columns, weight = ctx.saved_tensors
        grad = grad.to(ctx.dtype)
        grad_columns = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_columns = grad @ _matrix(weight).to(ctx.dtype)
        if ctx.needs_input_grad[1]:
            out_channels, _, kernel_h, kernel_w = weight.shape
            grad_weight = (grad.t() @ columns).to(weight.dtype) \
                .view(out_channels, kernel_h, kernel_w, -1).permute(0, 3, 1, 2)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad.sum(0, dtype=torch.promote_types(grad.dtype, torch.float32)) \
                .to(weight.dtype)
        return grad_columns, grad_weight, grad_bias
