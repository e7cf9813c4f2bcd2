"""Plan a Phaze-A design before building it: every derived size, and every up-front check.

Each combination that faceswap crashes on or silently mis-builds is rejected here
with a ConfigError naming the options involved, before any real tensor is made.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

import torch

from phaze.config.options import OPTION_FIELDS, PhazeAOptions
from phaze.errors import ConfigError
from phaze.layers.upscale import upscaled_channels
from phaze.model.bottleneck import bottleneck_output_size
from phaze.model.encoders import ENCODERS
from phaze.model.encoders.registry import EncoderSpec
from phaze.model.fc import fc_input_size
from phaze.model.geometry import (DecoderGeometry, FCGeometry, decoder_geometry,
                                  encoder_input_size, fc_geometry)
from phaze.model.curve import filter_curve

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Design:
    """Everything the builder needs, derived from the options (shapes are (C, H, W) or (E,))."""

    options: PhazeAOptions
    encoder_spec: EncoderSpec
    input_size: int
    feature_shape: tuple[int, ...]      # backbone output
    encoder_out: tuple[int, ...]        # `encoder` sub-model output
    fc: FCGeometry
    fc_out_size: int
    fc_out_channels: int                # per FC model, before any shared concatenation
    side_channels: int                  # channels entering G-Block / decoder
    gblock_widths: tuple[int, ...]
    decoder: DecoderGeometry


# The option groups the backbone (and, with "bottleneck", the whole `encoder` sub-model) is
# built from. Designs that differ only elsewhere share the backbone, so its probe (a meta
# forward: most of the time a timm design takes to plan) is done once per key.
BACKBONE_GROUPS = frozenset({"encoder", "fs_original", "mobilenet", "global"})
ENCODER_GROUPS = BACKBONE_GROUPS | {"bottleneck"}

OptionKey = tuple[tuple[str, object], ...]


def option_key(opts: PhazeAOptions, groups: frozenset[str]) -> OptionKey:
    """The values of every option in `groups`: hashable, and enough to rebuild those parts."""
    return tuple((name, getattr(opts, name)) for name, field in OPTION_FIELDS.items()
                 if field.metadata["group"] in groups)


def options_from_key(key: OptionKey) -> PhazeAOptions:
    """Defaults, with the options a key holds: builds the same parts the key was taken from."""
    return PhazeAOptions().replace(**dict(key))


def backbone_output_shape(opts: PhazeAOptions, size: int) -> tuple[int, ...]:
    """The backbone's output shape at a `size` px input, probed once per backbone design."""
    return _probe_backbone(option_key(opts, BACKBONE_GROUPS), size)


@functools.lru_cache(maxsize=64)
def _probe_backbone(key: OptionKey, size: int) -> tuple[int, ...]:
    """Run the backbone on the meta device to learn its output shape without real tensors."""
    opts = options_from_key(key)
    spec = ENCODERS.get_entry(opts.enc_architecture)
    try:
        with torch.device("meta"):
            backbone = spec.build(opts, size).eval()   # train-mode batch norm rejects a
        with torch.no_grad():                          # 1×1 map of a batch of 1
            features = backbone(torch.empty(1, 3, size, size, device="meta"))
    except ConfigError:     # e.g. timm missing: already says what to do
        raise
    except (RuntimeError, ValueError) as error:
        raise ConfigError(f"encoder '{spec.name}' cannot take a {size}px input "
                          f"(enc_scaling={opts.enc_scaling}): {error}") from None
    return tuple(features.shape[1:])


def resolve_input_size(spec: EncoderSpec, opts: PhazeAOptions) -> tuple[int, str | None]:
    """Input size S and, when it was forced, a warning to show the user."""
    size = encoder_input_size(spec.default_size, spec.min_size, opts.enc_scaling)
    if (spec.weights_force_default_size and opts.enc_load_weights
            and opts.enc_scaling != 100):
        return spec.default_size, (
            f"{spec.name}: its pretrained weights (enc_load_weights = true) need the default "
            f"input size, so enc_scaling = {opts.enc_scaling} ({size}px) is overridden: using "
            f"{spec.default_size}px")
    return size, None


def plan_design(opts: PhazeAOptions) -> Design:
    """Derive all sizes of `opts` or raise a ConfigError that names the offending options."""
    _check_general(opts)
    spec = ENCODERS.get_entry(opts.enc_architecture)
    size, warning = resolve_input_size(spec, opts)
    if warning:
        logger.warning(warning)
    features = backbone_output_shape(opts, size)
    _check_bottleneck(opts, features)
    encoder_out = features
    if opts.bottleneck_in_encoder:
        encoder_out = (bottleneck_output_size(opts.bottleneck_type, opts.bottleneck_size,
                                              features),)
    fc = fc_geometry(opts)
    _check_fc(opts, fc, fc_input_size(opts, encoder_out))
    dec = decoder_geometry(opts, fc.upsampled_size)
    _check_decoder(opts, fc, dec)
    fc_size, fc_channels = fc.upsampled_size, fc.upsampled_channels
    if dec.fc_stages:
        fc_size = dec.reshape_size * 2 ** dec.fc_stages
        fc_channels = upscaled_channels(opts.dec_upscale_method, dec.fc_filters[-1])
    side_channels = fc_channels * (2 if opts.shared_fc != "none" else 1)
    gblock_widths = tuple(filter_curve(opts.fc_gblock_min_nodes, opts.fc_gblock_max_nodes,
                                       opts.fc_gblock_depth, opts.fc_gblock_filter_slope))
    return Design(opts, spec, size, features, encoder_out, fc, fc_size, fc_channels,
                  side_channels, gblock_widths, dec)


def _check_general(opts: PhazeAOptions) -> None:
    if opts.output_size % 16:
        raise ConfigError(f"option 'output_size' = {opts.output_size} is invalid: expected a "
                          "multiple of 16")
    if opts.learn_mask and opts.dec_upscales_in_fc and (opts.enable_gblock
                                                        or opts.shared_fc != "none"):
        raise ConfigError("learn_mask with dec_upscales_in_fc > 0 works only without the "
                          "G-Block and without a shared FC (enable_gblock=false, "
                          "shared_fc=none); faceswap cannot build it at all")


def _check_bottleneck(opts: PhazeAOptions, features: tuple[int, ...]) -> None:
    if len(features) == 1 and opts.bottleneck_type in ("average_pooling", "max_pooling"):
        raise ConfigError(f"option 'bottleneck_type' = '{opts.bottleneck_type}' needs a "
                          f"feature-map encoder, but '{opts.enc_architecture}' outputs a "
                          "vector: use 'dense' or 'flatten'")


def _check_fc(opts: PhazeAOptions, fc: FCGeometry, input_length: int) -> None:
    names = [("fc_min_filters", fc.min_filters), ("fc_max_filters", fc.max_filters)]
    if opts.fc_upsamples and opts.fc_upsampler != "upsample2d":
        names.append(("fc_upsample_filters", fc.upsample_filters))
    for name, value in names:
        if value <= 0:
            raise ConfigError(
                f"option '{name}' = {getattr(opts, name)} is too small for output_size="
                f"{opts.output_size}, fc_dimensions={opts.fc_dimensions}: it is scaled down to "
                f"a multiple of {fc.scale_target ** 2}, which gives 0")
    nodes = fc.max_filters * fc.reshape_size ** 2
    if opts.fc_depth == 0 and input_length != nodes:
        raise ConfigError(
            f"fc_depth = 0 reshapes the encoder vector directly, but it has {input_length} "
            f"values and (fc_dimensions² × fc_max_filters) = {nodes}: change bottleneck_size, "
            "fc_dimensions or fc_max_filters")
    if opts.fc_depth == 1 and fc.min_filters != fc.max_filters:
        raise ConfigError(
            f"fc_depth = 1 uses fc_min_filters for its only layer, so fc_min_filters "
            f"({opts.fc_min_filters}) must equal fc_max_filters ({opts.fc_max_filters})")
    if opts.fc_depth >= 1 and nodes % 8:
        raise ConfigError(
            f"fc_dimensions² × fc_max_filters = {nodes} must be a multiple of 8 (the Dense "
            "widths are rounded down to multiples of 8): change fc_dimensions or fc_max_filters")
    if opts.icnr_init and opts.fc_upsampler != "upsample2d" and opts.fc_upsamples:
        _check_icnr("fc_upsample_filters", fc.upsample_filters, opts.fc_upsampler)


def _check_icnr(name: str, filters: int, method: str) -> None:
    half = filters - filters // 2
    for count in (filters, half) if method == "upscale_hybrid" else (filters,):
        if count % 4:
            raise ConfigError(f"icnr_init needs upscaler filters divisible by 4, but {name} "
                              f"gives {count}")


def _check_decoder(opts: PhazeAOptions, fc: FCGeometry, dec: DecoderGeometry) -> None:
    size, channels, target = fc.upsampled_size, fc.upsampled_channels, dec.reshape_size
    if (size * size * channels) % (target * target):
        raise ConfigError(
            f"the FC output ({size}, {size}, {channels}) cannot be reshaped to {target}×{target}"
            f" for output_size={opts.output_size}: pick fc_dimensions/fc_upsamples so that "
            f"fc_dimensions × 2^fc_upsamples divides the output size evenly, or change "
            f"fc_max_filters / fc_upsample_filters")
    upscales = len(dec.filters)
    if upscales == 0:
        raise ConfigError(f"the FC output is already {size}px, the output size: lower "
                          "fc_dimensions or fc_upsamples so the decoder has something to do")
    method = opts.dec_upscale_method
    for filters in dec.filters:
        channels = upscaled_channels(method, filters)
        if opts.dec_norm == "group" and (channels < 32 or channels % 32):
            raise ConfigError(f"dec_norm = 'group' needs every decoder stage's channels to be a "
                              f"multiple of 32, but the filter list {list(dec.filters)} has "
                              f"{channels}: change dec_min_filters/dec_max_filters/slope")
        if opts.icnr_init:
            _check_icnr("the decoder filter list", filters, method)
