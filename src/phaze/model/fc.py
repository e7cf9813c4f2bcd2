"""The fully-connected ("hidden") sub-models: fc_a / fc_b / fc_both / fc_shared and fc_gblock."""
from __future__ import annotations

import torch
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.layers.init import ConvInit, init_glorot
from phaze.layers.upscale import Upsample2D, create_upscaler
from phaze.model.bottleneck import Bottleneck, bottleneck_output_size
from phaze.model.geometry import DecoderGeometry, FCGeometry
from phaze.model.upscale_run import UpscaleRun


def dense_stack(in_features: int, widths: tuple[int, ...], dropout: float) -> nn.Sequential:
    """Dropout → Linear for every width (Glorot, bias, no activation)."""
    layers: list[nn.Module] = []
    for width in widths:
        linear = nn.Linear(in_features, width)
        init_glorot(linear)
        layers += [nn.Dropout(dropout), linear]
        in_features = width
    return nn.Sequential(*layers)


def fc_input_size(opts: PhazeAOptions, encoder_out: tuple[int, ...]) -> int:
    """Length of the vector entering the dense stack (after an FC-owned bottleneck)."""
    if opts.bottleneck_in_encoder:
        return encoder_out[0]
    return bottleneck_output_size(opts.bottleneck_type, opts.bottleneck_size, encoder_out)


def _own_bottleneck(opts: PhazeAOptions, encoder_out: tuple[int, ...]) -> nn.Module:
    if opts.bottleneck_in_encoder:
        return nn.Identity()
    return Bottleneck(opts.bottleneck_type, opts.bottleneck_norm, opts.bottleneck_size,
                      encoder_out)


class FullyConnected(nn.Module):
    """[bottleneck] → dense stack → reshape (d, d, F) → upsamplers → [first decoder stages].

    Returns the face features, or (face, mask) features when mask stages run here.
    """

    def __init__(self, opts: PhazeAOptions, encoder_out: tuple[int, ...], fc: FCGeometry,
                 dec: DecoderGeometry) -> None:
        super().__init__()
        self.reshape = (fc.max_filters, fc.reshape_size, fc.reshape_size)
        self.bottleneck = _own_bottleneck(opts, encoder_out)
        self.dense = dense_stack(fc_input_size(opts, encoder_out), fc.dense_widths,
                                 opts.fc_dropout)
        self.upsample = self._upsamplers(opts, fc)
        self.face_run = self.mask_run = None
        if dec.fc_stages:
            args = (opts, fc.upsampled_channels, fc.upsampled_size, dec.reshape_size,
                    dec.fc_filters, True)
            self.face_run = UpscaleRun(*args)
            if opts.learn_mask:
                self.mask_run = UpscaleRun(*args, mask_path=True)

    @staticmethod
    def _upsamplers(opts: PhazeAOptions, fc: FCGeometry) -> nn.Module:
        if opts.fc_upsampler == "upsample2d":
            return Upsample2D(opts.fc_upsamples)
        init = ConvInit(icnr=opts.icnr_init, conv_aware=opts.conv_aware_init)
        layers, channels = [], fc.max_filters
        for _ in range(opts.fc_upsamples):
            layers.append(create_upscaler(opts.fc_upsampler, channels, fc.upsample_filters,
                                          init, opts.reflect_padding))
            channels = fc.upsampled_channels
        return nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        vector = self.dense(self.bottleneck(z))
        channels, size, _ = self.reshape
        # (N, d·d·F) in HWC order → (N, F, d, d)
        x = vector.reshape(-1, size, size, channels).permute(0, 3, 1, 2)
        x = self.upsample(x)
        if self.face_run is None:
            return x
        face = self.face_run(x)
        return (face, self.mask_run(x)) if self.mask_run is not None else face


class GBlockFullyConnected(nn.Module):
    """`fc_gblock`: [bottleneck] → dense stack producing the G-Block's style vector."""

    def __init__(self, opts: PhazeAOptions, encoder_out: tuple[int, ...],
                 widths: tuple[int, ...]) -> None:
        super().__init__()
        self.bottleneck = _own_bottleneck(opts, encoder_out)
        self.dense = dense_stack(fc_input_size(opts, encoder_out), widths,
                                 opts.fc_gblock_dropout)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.dense(self.bottleneck(z))
