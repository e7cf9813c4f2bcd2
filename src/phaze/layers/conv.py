"""Convolutions with TensorFlow-style "same" padding, and faceswap's conv block."""
from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from phaze.layers.conv_matmul import conv2d_as_matmul
from phaze.layers.init import ConvInit, init_faceswap_conv


def same_padding(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """(before, after) padding of TF "same": output ceil(n/s), extra pixel after."""
    total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class SamePadConv2d(nn.Conv2d):
    """Conv2d whose padding is computed per input like TF "same" (zero or reflect).

    `padding_mode="valid"` pads nothing unless `reflect` is set: faceswap reflect-pads even
    its "valid" convolution, which then stops shrinking the image.
    """

    # Outputs of at most this many positions per image are computed as a matmul over image
    # columns (`conv2d_as_matmul`); 0: never. A speed choice of the caller, not of the model.
    matmul_max_positions: int = 0
    # On that path, where the caller shares reduced-precision copies of the weight between
    # forwards (both sides of one step): {dtype: (weight, copy)}. Autocast's cache does this
    # for F.conv2d; without it each side's float32 weight gradient would be alive at once.
    weight_casts: dict[torch.dtype, tuple[torch.Tensor, torch.Tensor]] | None = None

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 reflect: bool = False, valid: bool = False, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride=stride, bias=bias)
        self.reflect = reflect
        self.valid = valid and not reflect

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        k, s = self.kernel_size[0], self.stride[0]
        top, bottom = (0, 0) if self.valid else same_padding(x.shape[-2], k, s)
        left, right = (0, 0) if self.valid else same_padding(x.shape[-1], k, s)
        positions = ((x.shape[-2] + top + bottom - k) // s + 1) * \
            ((x.shape[-1] + left + right - k) // s + 1)
        if positions <= self.matmul_max_positions:
            return conv2d_as_matmul(self._pad(x, left, right, top, bottom),
                                    self._matmul_weight(), self.bias, s)
        if self.valid:
            return super().forward(x)
        if not self.reflect and top == bottom and left == right:
            # Symmetric zeros: the convolution pads by itself, without a padded copy of x
            # (faster, and autograd saves no copy for the backward pass).
            return F.conv2d(x, self.weight, self.bias, self.stride, (top, left),
                            self.dilation, self.groups)
        return super().forward(self._pad(x, left, right, top, bottom))

    def _matmul_weight(self) -> torch.Tensor:
        device = self.weight.device.type
        if self.weight_casts is None or not torch.is_autocast_enabled(device):
            return self.weight
        dtype = torch.get_autocast_dtype(device)
        source, cast = self.weight_casts.get(dtype, (None, None))
        # Only a copy of this very tensor: a wrapper that gathers a new weight tensor for each
        # forward (FSDP) must get its gradient through the tensor it gathered.
        if source is not self.weight:
            source, cast = self.weight_casts[dtype] = (self.weight, self.weight.to(dtype))
        return cast

    def _pad(self, x: torch.Tensor, left: int, right: int, top: int, bottom: int) -> torch.Tensor:
        if not (top or bottom or left or right):
            return x
        return F.pad(x, (left, right, top, bottom), mode="reflect" if self.reflect else "constant")


class ConvBlock(nn.Sequential):
    """[reflect pad] → Conv(k, s) with faceswap init → LeakyReLU(slope)."""

    def __init__(self, in_channels: int, filters: int, kernel_size: int, stride: int = 1,
                 slope: float = 0.1, init: ConvInit = ConvInit(), reflect: bool = False,
                 valid: bool = False, upscale: bool = False) -> None:
        conv = SamePadConv2d(in_channels, filters, kernel_size, stride, reflect=reflect,
                             valid=valid)
        init_faceswap_conv(conv, init, upscale=upscale)
        super().__init__(conv, nn.LeakyReLU(slope))


def plain_conv(in_channels: int, filters: int, kernel_size: int, init: ConvInit,
               upscale: bool = False) -> SamePadConv2d:
    """A convolution outside conv blocks: always zero "same" padding, faceswap init."""
    conv = SamePadConv2d(in_channels, filters, kernel_size)
    init_faceswap_conv(conv, init, upscale=upscale)
    return conv
