"""faceswap's residual block."""
from __future__ import annotations

import torch
from torch import nn

from phaze.layers.conv import SamePadConv2d
from phaze.layers.init import ConvInit, conv_aware_, init_faceswap_conv, scaled_uniform_


class ResidualBlock(nn.Module):
    """x → conv3 → LReLU(0.2) → conv3 (small init) → + x → LReLU(0.2)."""

    def __init__(self, channels: int, init: ConvInit = ConvInit(), reflect: bool = False) -> None:
        super().__init__()
        self.conv1 = SamePadConv2d(channels, channels, 3, reflect=reflect)
        self.conv2 = SamePadConv2d(channels, channels, 3, reflect=reflect)
        self.act = nn.LeakyReLU(0.2)
        init_faceswap_conv(self.conv1, init)
        if not self.conv2.weight.is_meta:
            if init.conv_aware:
                conv_aware_(self.conv2.weight)
            else:
                scaled_uniform_(self.conv2.weight, 0.2)
            nn.init.zeros_(self.conv2.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.conv2(self.act(self.conv1(x)))
        return self.act(y + x)
