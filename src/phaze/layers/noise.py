"""Training-only regularisers: Gaussian noise (σ = 1 everywhere in Phaze-A)."""
from __future__ import annotations

import torch
from torch import nn


class GaussianNoise(nn.Module):
    def __init__(self, stddev: float = 1.0) -> None:
        super().__init__()
        self.stddev = stddev

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training:
            return x
        return x + torch.randn_like(x) * self.stddev
