"""Adaptive instance normalisation used by the G-Block (always computed in float32)."""
from __future__ import annotations

import torch
from torch import nn


class AdaIN(nn.Module):
    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor, beta: torch.Tensor, gamma: torch.Tensor) -> torch.Tensor:
        # (N, C, H, W) feature map; beta/gamma (N, C, 1, 1)
        dtype = x.dtype
        x, beta, gamma = x.float(), beta.float(), gamma.float()
        mean = x.mean(dim=(2, 3), keepdim=True)
        std = x.var(dim=(2, 3), keepdim=True, unbiased=False).sqrt()
        return (gamma * (x - mean) / (std + self.eps) + beta).to(dtype)
