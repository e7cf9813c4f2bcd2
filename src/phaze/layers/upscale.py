"""The ×2 upscalers and the FC's weight-free `upsample2d`."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from phaze.layers.conv import ConvBlock, plain_conv
from phaze.layers.init import ConvInit, init_glorot


def bilinear(x: torch.Tensor, factor: int) -> torch.Tensor:
    return F.interpolate(x, scale_factor=factor, mode="bilinear", align_corners=False)


def depth_to_space(x: torch.Tensor, scale: int = 2) -> torch.Tensor:
    """TensorFlow's depth-to-space, as faceswap's PixelShuffler computes it.

    Input channel (i·scale + j)·F + c goes to pixel (scale·h + i, scale·w + j), channel c: the
    sub-pixel position is the major index. torch's PixelShuffle uses c·scale² + position instead.
    """
    n, channels, height, width = x.shape
    filters = channels // (scale * scale)
    if x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous():
        return _depth_to_space_nhwc(x, scale)
    x = x.reshape(n, scale, scale, filters, height, width)
    x = x.permute(0, 3, 4, 1, 5, 2)
    return x.reshape(n, filters, height * scale, width * scale)


def _depth_to_space_nhwc(x: torch.Tensor, scale: int) -> torch.Tensor:
    """depth_to_space of a channels-last tensor, returned channels-last with one copy: the
    NCHW path's copy would come out NCHW, and the next convolution copy it back to NHWC."""
    n, channels, height, width = x.shape
    filters = channels // (scale * scale)
    x = x.permute(0, 2, 3, 1).reshape(n, height, width, scale, scale, filters)  # a view
    x = x.permute(0, 1, 3, 2, 4, 5)  # (N, H, i, W, j, F)
    x = x.reshape(n, height * scale, width * scale, filters)  # the one copy, NHWC
    return x.permute(0, 3, 1, 2)  # (N, F, H·s, W·s), channels-last strides


class DepthToSpace(nn.Module):
    def __init__(self, scale: int = 2) -> None:
        super().__init__()
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return depth_to_space(x, self.scale)


class Subpixel(nn.Module):
    """ConvBlock(4F, k3, LReLU 0.1) → depth-to-space ×2 (TensorFlow channel order)."""

    def __init__(self, in_channels: int, filters: int, init: ConvInit, reflect: bool) -> None:
        super().__init__()
        self.conv = ConvBlock(in_channels, filters * 4, 3, slope=0.1, init=init,
                              reflect=reflect, upscale=True)
        self.shuffle = DepthToSpace(2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shuffle(self.conv(x))


class UpscaleFast(nn.Module):
    """Subpixel branch + (conv → bilinear ×2) branch, summed."""

    def __init__(self, in_channels: int, filters: int, init: ConvInit, reflect: bool) -> None:
        super().__init__()
        self.subpixel = Subpixel(in_channels, filters, init, reflect)
        self.conv = plain_conv(in_channels, filters, 3, init, upscale=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return bilinear(self.conv(x), 2) + self.subpixel(x)


class UpscaleHybrid(nn.Module):
    """Half the filters by subpixel, half by conv → bilinear, concatenated (F+1 when F is odd)."""

    def __init__(self, in_channels: int, filters: int, init: ConvInit, reflect: bool) -> None:
        super().__init__()
        half = filters - filters // 2
        self.subpixel = Subpixel(in_channels, half, init, reflect)
        self.conv = plain_conv(in_channels, half, 3, init, upscale=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.subpixel(x), bilinear(self.conv(x), 2)], dim=1)


class ResizeImages(nn.Module):
    """LReLU(0.2)(conv(bilinear ×2) + transposed conv stride 2)."""

    def __init__(self, in_channels: int, filters: int, init: ConvInit, reflect: bool) -> None:
        super().__init__()
        self.conv = plain_conv(in_channels, filters, 3, init, upscale=True)
        self.transpose = nn.ConvTranspose2d(in_channels, filters, 3, stride=2, padding=1,
                                            output_padding=1)
        init_glorot(self.transpose)
        self.act = nn.LeakyReLU(0.2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.conv(bilinear(x, 2)) + self.transpose(x))


class UpscaleDNY(nn.Module):
    """bilinear ×2 → two ConvBlocks (k3, LReLU 0.2)."""

    def __init__(self, in_channels: int, filters: int, init: ConvInit, reflect: bool) -> None:
        super().__init__()
        self.conv1 = ConvBlock(in_channels, filters, 3, slope=0.2, init=init, reflect=reflect,
                               upscale=True)
        self.conv2 = ConvBlock(filters, filters, 3, slope=0.2, init=init, reflect=reflect,
                               upscale=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(self.conv1(bilinear(x, 2)))


class Upsample2D(nn.Module):
    """Weight-free FC upsampling: nearest ×2 for one step, one bilinear ×2ⁿ for n ≥ 2.

    faceswap follows it with LReLU(0.1) even when n = 0 (faceswap defect 18, reproduced, docs/faceswap-differences.md).
    """

    def __init__(self, upsamples: int) -> None:
        super().__init__()
        self.upsamples = upsamples
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.upsamples == 1:
            x = F.interpolate(x, scale_factor=2, mode="nearest")
        elif self.upsamples > 1:
            x = bilinear(x, 2 ** self.upsamples)
        return self.act(x)


UPSCALERS = {
    "subpixel": Subpixel,
    "upscale_fast": UpscaleFast,
    "upscale_hybrid": UpscaleHybrid,
    "resize_images": ResizeImages,
    "upscale_dny": UpscaleDNY,
}


def upscaled_channels(method: str, filters: int) -> int:
    """Channels an upscaler outputs for `filters` (hybrid rounds odd counts up)."""
    return 2 * (filters - filters // 2) if method == "upscale_hybrid" else filters


def create_upscaler(method: str, in_channels: int, filters: int, init: ConvInit = ConvInit(),
                    reflect: bool = False) -> nn.Module:
    return UPSCALERS[method](in_channels, filters, init, reflect)
