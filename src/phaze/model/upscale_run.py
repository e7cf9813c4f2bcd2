"""One upscale run: output-size reshape, DNY entry convs, and the ×2 stages.

A model's single run is split between the FC models (`dec_upscales_in_fc` stages) and the
decoders (the rest); each part is an UpscaleRun, and the skip-last-residual rule applies to each.
"""
from __future__ import annotations

import torch
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.layers.conv import ConvBlock
from phaze.layers.init import ConvInit
from phaze.layers.noise import GaussianNoise
from phaze.layers.norm import create_norm
from phaze.layers.residual import ResidualBlock
from phaze.layers.upscale import create_upscaler, upscaled_channels


def reshape_hwc(x: torch.Tensor, size: int) -> torch.Tensor:
    """Reinterpret (N, C, H, W) as (size, size, ·) in faceswap's HWC memory order."""
    n, c, h, w = x.shape
    channels = h * w * c // (size * size)
    hwc = x.permute(0, 2, 3, 1).reshape(n, size, size, channels)
    return hwc.permute(0, 3, 1, 2)


class UpscaleStage(nn.Module):
    """upscaler → [noise] → norm → LReLU(0.2) → residual blocks, or norm → LReLU(0.1)."""

    def __init__(self, opts: PhazeAOptions, in_channels: int, filters: int, residual: bool,
                 noise: bool, init: ConvInit) -> None:
        super().__init__()
        method = opts.dec_upscale_method
        channels = upscaled_channels(method, filters)
        self.upscale = create_upscaler(method, in_channels, filters, init, opts.reflect_padding)
        self.noise = GaussianNoise(1.0) if noise else nn.Identity()
        self.norm = create_norm(opts.dec_norm, channels)
        if residual:
            self.act = nn.LeakyReLU(0.2)
            self.residual = nn.Sequential(*[
                ResidualBlock(channels, init, opts.reflect_padding)
                for _ in range(opts.dec_res_blocks)])
        else:
            self.act = nn.Identity() if method == "upscale_dny" else nn.LeakyReLU(0.1)
            self.residual = nn.Identity()
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.residual(self.act(self.norm(self.noise(self.upscale(x)))))


class UpscaleRun(nn.Module):
    """The face path (or, with `mask_path`, the mask path: no noise, no residual blocks)."""

    def __init__(self, opts: PhazeAOptions, in_channels: int, in_size: int, reshape_size: int,
                 filters: tuple[int, ...], starts_run: bool, mask_path: bool = False) -> None:
        super().__init__()
        init = ConvInit(icnr=opts.icnr_init, conv_aware=opts.conv_aware_init)
        self.reshape_size = reshape_size if starts_run and reshape_size != in_size else None
        channels = in_channels
        if self.reshape_size is not None:
            channels = in_size * in_size * in_channels // (reshape_size * reshape_size)
        entry: list[nn.Module] = []
        if starts_run and opts.dec_upscale_method == "upscale_dny":
            entry = [ConvBlock(channels, opts.dec_max_filters, 4, slope=0.2, init=ConvInit(
                        conv_aware=opts.conv_aware_init), reflect=opts.reflect_padding),
                     ConvBlock(opts.dec_max_filters, opts.dec_max_filters, 3, slope=0.2,
                               init=ConvInit(conv_aware=opts.conv_aware_init),
                               reflect=opts.reflect_padding)]
            channels = opts.dec_max_filters
        self.entry = nn.Sequential(*entry)
        stages = []
        for index, stage_filters in enumerate(filters):
            last = index == len(filters) - 1
            residual = (not mask_path and opts.dec_res_blocks > 0
                        and not (opts.dec_skip_last_residual and last))
            stage = UpscaleStage(opts, channels, stage_filters, residual,
                                 noise=opts.dec_gaussian and not mask_path, init=init)
            stages.append(stage)
            channels = stage.out_channels
        self.stages = nn.Sequential(*stages)
        self.out_channels = channels

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.reshape_size is not None:
            x = reshape_hwc(x, self.reshape_size)
        return self.stages(self.entry(x))
