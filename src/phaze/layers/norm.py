"""Normalisation layers, channels-first, for feature maps (N,C,H,W) or vectors (N,C)."""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from phaze.registry import Registry


class InstanceNormAll(nn.Module):
    """faceswap's 'instance' norm: stats over all of C, H, W; one scalar γ and β; ε on σ."""

    def __init__(self, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.gamma = nn.Parameter(torch.ones(1))
        self.beta = nn.Parameter(torch.zeros(1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        dims = tuple(range(1, x.dim()))
        mean = x.mean(dim=dims, keepdim=True)
        std = x.var(dim=dims, keepdim=True, unbiased=False).sqrt()
        return self.gamma * (x - mean) / (std + self.eps) + self.beta


def _channel_shape(x: torch.Tensor) -> tuple[int, ...]:
    return (1, -1) + (1,) * (x.dim() - 2)


class ChannelLayerNorm(nn.Module):
    """Layer norm over the channel axis at every position (Keras LayerNormalization(axis=-1))."""

    def __init__(self, channels: int, eps: float = 1e-3) -> None:
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=1, keepdim=True)
        var = x.var(dim=1, keepdim=True, unbiased=False)
        shape = _channel_shape(x)
        normed = (x - mean) * torch.rsqrt(var + self.eps)
        return normed * self.weight.view(shape) + self.bias.view(shape)


class ChannelRMSNorm(nn.Module):
    """RMS norm over the channel axis with a per-channel scale and no bias."""

    def __init__(self, channels: int, eps: float = 1e-8) -> None:
        super().__init__()
        self.eps = eps
        self.scale = nn.Parameter(torch.ones(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        rms = torch.rsqrt(x.pow(2).mean(dim=1, keepdim=True) + self.eps)
        return x * rms * self.scale.view(_channel_shape(x))


# option value → factory(channels); `none` is the identity. The BatchNorm and GroupNorm settings
# are those of the Keras layers faceswap uses (epsilon 1e-3 / momentum 0.99, 32 groups, 1e-6).
NORMS: Registry[Callable[[int], nn.Module]] = Registry("norm")
NORMS.add("none", lambda channels: nn.Identity())
NORMS.add("instance", lambda channels: InstanceNormAll())
NORMS.add("layer", ChannelLayerNorm)
NORMS.add("rms", ChannelRMSNorm)
NORMS.add("batch", lambda channels: nn.BatchNorm2d(channels, eps=1e-3, momentum=0.01))
NORMS.add("group", lambda channels: nn.GroupNorm(32, channels, eps=1e-6))


def create_norm(name: str, channels: int) -> nn.Module:
    """Norm layer by option value."""
    return NORMS.get_entry(name)(channels)
