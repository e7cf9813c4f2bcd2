"""The `encoder` sub-model: input mapping from [0,1] RGB, the backbone, an optional bottleneck."""
from __future__ import annotations

import torch
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.model.bottleneck import Bottleneck
from phaze.model.encoders.registry import EncoderSpec


class InputMapping(nn.Module):
    """Map [0,1] RGB to the backbone's range and colour order, so callers never need to."""

    def __init__(self, input_range: str, colour_order: str) -> None:
        super().__init__()
        self.input_range = input_range
        self.bgr = colour_order == "bgr"

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.bgr:
            x = x.flip(1)
        if self.input_range == "byte":
            return x * 255.0
        if self.input_range == "signed":
            return x * 2.0 - 1.0
        return x

    def extra_repr(self) -> str:
        return f"range={self.input_range}, bgr={self.bgr}"


class Encoder(nn.Module):
    """Shared by both sides. `backbone` is what `keras_encoder` names in freeze_layers."""

    def __init__(self, spec: EncoderSpec, opts: PhazeAOptions, input_size: int,
                 feature_shape: tuple[int, ...]) -> None:
        super().__init__()
        self.input_size = input_size
        self.mapping = InputMapping(spec.input_range, spec.colour_order)
        self.backbone = spec.build(opts, input_size)
        self.bottleneck = None
        if opts.bottleneck_in_encoder:
            self.bottleneck = Bottleneck(opts.bottleneck_type, opts.bottleneck_norm,
                                         opts.bottleneck_size, feature_shape)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # (N, 3, S, S) in [0, 1] RGB → (N, C, H, W) features or (N, E) vector
        features = self.backbone(self.mapping(x))
        return self.bottleneck(features) if self.bottleneck is not None else features
