"""The bottleneck that turns encoder features into a vector."""
from __future__ import annotations

import torch
from torch import nn

from phaze.layers.init import init_glorot
from phaze.layers.norm import create_norm


def flatten_hwc(x: torch.Tensor) -> torch.Tensor:
    """Flatten (N, C, H, W) in faceswap's (h·W + w)·C + c order; vectors pass through."""
    if x.dim() == 2:
        return x
    return x.permute(0, 2, 3, 1).reshape(x.shape[0], -1)


class Bottleneck(nn.Module):
    """norm → dense / global pooling / flatten → vector."""

    def __init__(self, kind: str, norm: str, size: int, in_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.kind = kind
        self.norm = create_norm(norm, in_shape[0])
        self.dense = None
        if kind == "dense":
            self.dense = nn.Linear(_numel(in_shape), size)
            init_glorot(self.dense)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.norm(x)
        if self.kind == "average_pooling":
            x = x.mean(dim=(2, 3))
        elif self.kind == "max_pooling":
            x = x.amax(dim=(2, 3))
        x = flatten_hwc(x)
        return self.dense(x) if self.dense is not None else x


def _numel(shape: tuple[int, ...]) -> int:
    total = 1
    for dim in shape:
        total *= dim
    return total


def bottleneck_output_size(kind: str, size: int, in_shape: tuple[int, ...]) -> int:
    if kind == "dense":
        return size
    if kind in ("average_pooling", "max_pooling"):
        return in_shape[0]
    return _numel(in_shape)
