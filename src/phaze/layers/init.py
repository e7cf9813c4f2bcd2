"""Weight initialisers: He-uniform, residual scaling, conv-aware and ICNR."""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ConvInit:
    """How faceswap-style convolutions are initialised (global `icnr_init`, `conv_aware_init`)."""

    icnr: bool = False
    conv_aware: bool = False


def _fan_in(weight: torch.Tensor) -> int:
    return weight.shape[1] * weight[0, 0].numel()


def he_uniform_(weight: torch.Tensor) -> None:
    bound = math.sqrt(6.0 / _fan_in(weight))
    nn.init.uniform_(weight, -bound, bound)


def scaled_uniform_(weight: torch.Tensor, scale: float) -> None:
    """Keras VarianceScaling(scale, fan_in, uniform): U(±sqrt(3·scale/fan_in))."""
    bound = math.sqrt(3.0 * scale / _fan_in(weight))
    nn.init.uniform_(weight, -bound, bound)


def glorot_uniform_(weight: torch.Tensor) -> None:
    nn.init.xavier_uniform_(weight)


def he_normal_truncated_(weight: torch.Tensor) -> None:
    """Keras he_normal: normal truncated at ±2σ, σ corrected for the truncation."""
    fan_in = weight.shape[1] if weight.dim() == 2 else _fan_in(weight)
    std = math.sqrt(2.0 / fan_in) / 0.87962566103423978
    nn.init.trunc_normal_(weight, 0.0, std, -2 * std, 2 * std)


def conv_aware_(weight: torch.Tensor) -> None:
    """Convolution-aware init (Aghajanyan 2017): orthogonal in the Fourier domain."""
    out_ch, in_ch, rows, cols = weight.shape
    fft_cols = cols // 2 + 1
    basis_size = rows * fft_cols
    count = math.ceil(out_ch * in_ch / basis_size)
    random = torch.randn(count, basis_size, basis_size, dtype=torch.float64)
    left, _, _ = torch.linalg.svd(random + random.transpose(1, 2))   # batched, one call
    basis = left.transpose(1, 2).reshape(count * basis_size, rows, fft_cols)
    kernels = torch.fft.irfft2(basis.to(torch.complex128), s=(rows, cols))
    stacked = kernels[: out_ch * in_ch].reshape(out_ch, in_ch, rows, cols)
    stacked = stacked + torch.randn_like(stacked) * 0.05
    stacked = stacked * math.sqrt(2.0 / _fan_in(weight)) / stacked.std().clamp_min(1e-12)
    with torch.no_grad():
        weight.copy_(stacked.to(weight.dtype))


def icnr_(weight: torch.Tensor, base_init, scale: int = 2) -> None:
    """Initialise one sub-kernel and repeat it so every sub-pixel position starts identical.

    Phaze's sub-pixel upscale is TensorFlow's depth-to-space (channel position·F + c, see
    layers/upscale.py), so the sub-kernel block is tiled, once per sub-pixel position.
    """
    groups = scale * scale
    out_ch = weight.shape[0]
    if out_ch % groups:
        raise ValueError(f"ICNR needs output channels divisible by {groups}, got {out_ch}")
    sub = torch.empty(out_ch // groups, *weight.shape[1:], dtype=weight.dtype)
    base_init(sub)
    with torch.no_grad():
        weight.copy_(sub.repeat(groups, *([1] * (sub.dim() - 1))))


def init_faceswap_conv(conv: nn.Conv2d, init: ConvInit, upscale: bool = False) -> None:
    """faceswap's own convolution initialiser; ICNR wraps it for upscale convolutions."""
    if conv.weight.is_meta:
        return
    base = conv_aware_ if init.conv_aware else he_uniform_
    if upscale and init.icnr:
        icnr_(conv.weight, base)
    else:
        base(conv.weight)
    if conv.bias is not None:
        nn.init.zeros_(conv.bias)


def init_glorot(module: nn.Module) -> None:
    """Library-default init (Glorot-uniform weights, zero bias) for Dense and plain convs."""
    if module.weight.is_meta:
        return
    glorot_uniform_(module.weight)
    if module.bias is not None:
        nn.init.zeros_(module.bias)
