"""faceswap's built-in conv encoder `fs_original`, standard and alternate ("DNY") variants."""
from __future__ import annotations

from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.layers.conv import ConvBlock
from phaze.layers.init import ConvInit
from phaze.model.encoders.registry import EncoderSpec


def _standard(opts: PhazeAOptions, init: ConvInit) -> nn.Sequential:
    layers, in_ch, filters = [], 3, opts.fs_original_min_filters
    for _ in range(opts.fs_original_depth):
        layers.append(ConvBlock(in_ch, filters, 5, stride=2, slope=0.1, init=init,
                                reflect=opts.reflect_padding))
        in_ch, filters = filters, min(opts.fs_original_max_filters, filters * 2)
    return nn.Sequential(*layers)


def _alternate(opts: PhazeAOptions, init: ConvInit) -> nn.Sequential:
    reflect = opts.reflect_padding
    filters = opts.fs_original_min_filters
    layers: list[nn.Module] = [ConvBlock(3, filters, 1, slope=0.2, init=init, reflect=reflect)]
    for step in range(opts.fs_original_depth):
        layers.append(ConvBlock(filters, filters, 3, slope=0.2, init=init, reflect=reflect))
        in_ch, filters = filters, min(opts.fs_original_max_filters, filters * 2)
        if step < opts.fs_original_depth - 1:
            layers.append(ConvBlock(in_ch, filters, 3, slope=0.2, init=init, reflect=reflect))
            layers.append(nn.MaxPool2d(2, 2))
        else:
            layers.append(ConvBlock(in_ch, filters, 4, slope=0.2, init=init, reflect=reflect,
                                    valid=True))
    return nn.Sequential(*layers)


def build_fs_original(opts: PhazeAOptions, input_size: int) -> nn.Module:
    init = ConvInit(icnr=opts.icnr_init, conv_aware=opts.conv_aware_init)
    return _alternate(opts, init) if opts.fs_original_use_alt else _standard(opts, init)


FS_ORIGINAL = EncoderSpec(
    name="fs_original", build=build_fs_original, default_size=1024, min_size=32,
    input_range="unit", colour_order="bgr",
    description="faceswap's configurable built-in conv encoder (nominal size 1024 px)")
