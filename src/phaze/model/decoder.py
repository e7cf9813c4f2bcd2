"""The decoders (`decoder_a`, `decoder_b`, `decoder_both`): the rest of the upscale run + outputs."""
from __future__ import annotations

import torch
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.layers.conv import plain_conv
from phaze.layers.init import ConvInit
from phaze.model.geometry import DecoderGeometry
from phaze.model.side_output import SideOutput
from phaze.model.upscale_run import UpscaleRun


class Decoder(nn.Module):
    """Features → sigmoid face (N, 3, R, R) [and sigmoid mask (N, 1, R, R)], computed in fp32."""

    def __init__(self, opts: PhazeAOptions, in_channels: int, in_size: int,
                 dec: DecoderGeometry, mask_in_channels: int | None = None) -> None:
        super().__init__()
        init = ConvInit(conv_aware=opts.conv_aware_init)
        starts_run = dec.fc_stages == 0
        self.face_run = UpscaleRun(opts, in_channels, in_size, dec.reshape_size,
                                   dec.decoder_filters, starts_run)
        self.face_out = plain_conv(self.face_run.out_channels, 3, opts.dec_output_kernel, init)
        self.mask_run = self.mask_out = None
        if opts.learn_mask:
            self.mask_run = UpscaleRun(opts, mask_in_channels or in_channels, in_size,
                                       dec.reshape_size, dec.decoder_filters, starts_run,
                                       mask_path=True)
            self.mask_out = plain_conv(self.mask_run.out_channels, 1, opts.dec_output_kernel,
                                       init)

    def forward(self, x: torch.Tensor | tuple[torch.Tensor, torch.Tensor]) -> SideOutput:
        face_x, mask_x = x if isinstance(x, tuple) else (x, x)
        face = _sigmoid_fp32(self.face_out(self.face_run(face_x)))
        if self.mask_run is None:
            return SideOutput(face)
        return SideOutput(face, _sigmoid_fp32(self.mask_out(self.mask_run(mask_x))))


def _sigmoid_fp32(x: torch.Tensor) -> torch.Tensor:
    return torch.sigmoid(x.float())
