"""The StyleGAN-like G-Block: style MLP, AdaIN modulation, learned noise."""
from __future__ import annotations

import torch
from torch import nn

from phaze.layers.adain import AdaIN
from phaze.layers.conv import plain_conv
from phaze.layers.init import ConvInit, he_normal_truncated_, init_glorot
from phaze.layers.noise import GaussianNoise

STYLE_WIDTH = 512


def _style_mlp(in_features: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for index in range(3):
        linear = nn.Linear(in_features if index == 0 else STYLE_WIDTH, STYLE_WIDTH)
        if not linear.weight.is_meta:
            he_normal_truncated_(linear.weight)
            nn.init.zeros_(linear.bias)
        layers.append(linear)
        if index < 2:
            layers.append(nn.LeakyReLU(0.1))
    return nn.Sequential(*layers)


def _glorot(module: nn.Module) -> nn.Module:
    init_glorot(module)
    return module


class StyleRecursion(nn.Module):
    """One AdaIN step: β, γ from the style; a 1×1 'noise' projection of the noised input."""

    def __init__(self, channels: int, with_conv: bool) -> None:
        super().__init__()
        self.beta = _glorot(nn.Linear(STYLE_WIDTH, channels))
        self.gamma = _glorot(nn.Linear(STYLE_WIDTH, channels))
        self.noise = GaussianNoise(1.0)
        self.noise_conv = _glorot(nn.Conv2d(channels, channels, 1))
        self.conv = _glorot(nn.Conv2d(channels, channels, 3, padding=1)) if with_conv else None
        self.adain = AdaIN()
        self.act = nn.LeakyReLU(0.2)

    def forward(self, y: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        beta = self.beta(style)[:, :, None, None]      # (N, C, 1, 1)
        gamma = self.gamma(style)[:, :, None, None]
        # The 1×1 'noise' projection reads y from before the conv. The conv is called first
        # because faceswap's graph lists it first (which fixes the weight order on import).
        conv_y = self.conv(y) if self.conv is not None else y
        noise = self.noise_conv(self.noise(y))
        y = conv_y
        return self.act(self.adain(y, beta, gamma) + noise)


class GBlock(nn.Module):
    """Modulates the FC output (N, F, H, W) by the `fc_gblock` style vector (N, style_in)."""

    def __init__(self, channels: int, style_in: int, init: ConvInit = ConvInit()) -> None:
        super().__init__()
        self.style = _style_mlp(style_in)
        self.entry = plain_conv(channels, channels, 3, init)
        self.entry_noise = GaussianNoise(1.0)
        self.recursions = nn.ModuleList([StyleRecursion(channels, with_conv=False),
                                         StyleRecursion(channels, with_conv=True)])

    def forward(self, x: torch.Tensor, style_vector: torch.Tensor) -> torch.Tensor:
        style = self.style(style_vector)
        y = self.entry_noise(self.entry(x))
        for recursion in self.recursions:
            y = recursion(y, style)
        return y
