"""Derived sizes of a Phaze-A design: input size, FC scaling, decoder filter list."""
from __future__ import annotations

import math
from dataclasses import dataclass

from phaze.config.options import PhazeAOptions
from phaze.layers.upscale import upscaled_channels
from phaze.model.curve import filter_curve


def dim_fit(size: int, target: int) -> int:
    """Largest size ≤ target reachable from `size` by halving while it stays even."""
    value = size
    while value > target:
        if value % 2:
            break
        value //= 2
    return value


def encoder_input_size(default_size: int, min_size: int, scaling_percent: int) -> int:
    """S = max(min, 16·floor(default·scaling/100/16))."""
    return max(min_size, 16 * math.floor(default_size * scaling_percent / 100 / 16))


@dataclass(frozen=True)
class FCGeometry:
    """Sizes inside one non-G-Block FC model."""

    scale_target: int          # T: the size the output resolution reduces to
    min_filters: int           # scaled(fc_min_filters)
    max_filters: int           # scaled(fc_max_filters): channels of the reshape
    upsample_filters: int      # scaled(fc_upsample_filters)
    dense_widths: tuple[int, ...]
    reshape_size: int          # d
    upsampled_size: int        # d·2^u: spatial size after the FC upsamplers
    upsampled_channels: int    # channels after the FC upsamplers


def fc_geometry(opts: PhazeAOptions) -> FCGeometry:
    d, u = opts.fc_dimensions, opts.fc_upsamples
    final_dims = d * (u + 1)          # faceswap's formula, not d·2^u (faceswap defect 5, docs/faceswap-differences.md)
    target = dim_fit(opts.output_size, final_dims)

    def scaled(filters: int) -> int:
        return filters if target == final_dims else target ** 2 * (filters // target ** 2)

    min_f, max_f, up_f = (scaled(opts.fc_min_filters), scaled(opts.fc_max_filters),
                          scaled(opts.fc_upsample_filters))
    widths = filter_curve(min_f * d * d, max_f * d * d, opts.fc_depth, opts.fc_filter_slope)
    if u == 0 or opts.fc_upsampler == "upsample2d":
        channels = max_f
    else:
        channels = upscaled_channels(opts.fc_upsampler, up_f)
    return FCGeometry(target, min_f, max_f, up_f, tuple(widths), d, d * 2 ** u, channels)


@dataclass(frozen=True)
class DecoderGeometry:
    """The single upscale run from FC resolution to the output size (split over FC/decoder)."""

    start_size: int            # H: spatial size entering the run
    reshape_size: int          # T = dim_fit(R, H): size after the output-size reshape
    filters: tuple[int, ...]   # L
    fc_stages: int             # min(dec_upscales_in_fc, upscales): stages run in the FC

    @property
    def fc_filters(self) -> tuple[int, ...]:
        return self.filters[: self.fc_stages]

    @property
    def decoder_filters(self) -> tuple[int, ...]:
        return self.filters[self.fc_stages:]


def decoder_geometry(opts: PhazeAOptions, start_size: int) -> DecoderGeometry:
    reshape = dim_fit(opts.output_size, start_size)
    upscales = round(math.log2(opts.output_size / reshape))
    filters = filter_curve(opts.dec_max_filters, opts.dec_min_filters, upscales,
                           opts.dec_filter_slope, opts.dec_slope_mode)
    # faceswap slices the list at k, so k above the number of upscales moves all of them into
    # the FC models and leaves the decoders only their output convolutions.
    fc_stages = min(opts.dec_upscales_in_fc, len(filters))
    return DecoderGeometry(start_size, reshape, tuple(filters), fc_stages)


def reshaped_channels(size: int, channels: int, target: int) -> float:
    """Channels after reinterpreting (size, size, channels) as (target, target, ·)."""
    return size * size * channels / (target * target)
