"""The typed Phaze-A options object: every option's name, type, default and allowed values."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

ENCODER_CHOICES_DOC = "see `phaze encoders`"

UPSCALERS = ("subpixel", "resize_images", "upscale_fast", "upscale_hybrid", "upscale_dny")
FC_UPSAMPLERS = ("resize_images", "subpixel", "upscale_fast", "upscale_hybrid", "upsample2d")
SUBMODEL_NAMES = (
    "encoder", "fc_a", "fc_b", "fc_both", "fc_shared", "fc_gblock",
    "g_block_a", "g_block_b", "g_block_both", "decoder_a", "decoder_b", "decoder_both",
)
FREEZABLE_NAMES = ("encoder", "keras_encoder") + SUBMODEL_NAMES[1:]


def _int(default: int, low: int, high: int, group: str, help: str,
         updatable: bool = False) -> Any:
    return field(default=default, metadata={"kind": int, "range": (low, high), "group": group,
                                            "updatable": updatable, "help": help})


def _float(default: float, low: float, high: float, group: str, help: str,
           updatable: bool = False) -> Any:
    return field(default=default, metadata={"kind": float, "range": (low, high), "group": group,
                                            "updatable": updatable, "help": help})


def _bool(default: bool, group: str, help: str) -> Any:
    return field(default=default, metadata={"kind": bool, "group": group, "updatable": False,
                                            "help": help})


def _choice(default: str, choices: tuple[str, ...] | None, group: str, help: str) -> Any:
    """A string option; `choices=None` means the encoder registry validates it."""
    return field(default=default, metadata={"kind": str, "choices": choices, "group": group,
                                            "updatable": False, "help": help})


def _names(default: tuple[str, ...], choices: tuple[str, ...], group: str, help: str) -> Any:
    return field(default=default, metadata={"kind": tuple, "choices": choices, "group": group,
                                            "updatable": True, "help": help})


@dataclass(frozen=True)
class PhazeAOptions:
    """All options that shape a Phaze-A network, with faceswap's names and defaults."""

    # --- general ---
    output_size: int = _int(128, 64, 2048, "general",
                            help="Output resolution in pixels; must be a multiple of 16. Drives FC"
                                 " filter auto-scaling, the decoder reshape and the number of "
                                 "decoder upscales.")
    shared_fc: str = _choice("none", ("none", "full", "half"), "general",
                             help="`full`: an extra `fc_shared` model whose output is concatenated"
                                  " (channels) with each side's FC output. `half`: reuse the first"
                                  " FC model as the shared one (LIAE). `none`: no shared FC.")
    enable_gblock: bool = _bool(True, "general",
                                help="Build `fc_gblock` and a StyleGAN-like G-Block before the "
                                     "decoder(s).")
    split_fc: bool = _bool(True, "general",
                           help="`true`: separate `fc_a` and `fc_b`; `false`: one `fc_both` for "
                                "both sides.")
    split_gblock: bool = _bool(False, "general",
                               help="With the G-Block: `true` builds `g_block_a` + `g_block_b`, "
                                    "`false` one `g_block_both`.")
    split_decoders: bool = _bool(False, "general",
                                 help="`true`: `decoder_a` + `decoder_b`; `false`: one "
                                      "`decoder_both`.")
    # --- encoder ---
    enc_architecture: str = _choice("fs_original", None, "encoder",
                                    help="The encoder backbone: `fs_original` (built-in conv "
                                         "encoder) or an ImageNet/CLIP backbone (`phaze "
                                         "encoders`), or `timm:<name>`.")
    enc_scaling: int = _int(7, 0, 200, "encoder",
                            help="Percentage of the encoder's default input size used as the model"
                                 " input (rounded down to 16, at least the encoder's minimum). "
                                 "`fs_original`'s nominal size is 1024, so 7 % = 64 px.")
    enc_load_weights: bool = _bool(True, "encoder",
                                   help="Load pretrained ImageNet/CLIP weights (from a local file)"
                                        " into the backbone when the model is created. Ignored for"
                                        " `fs_original`.")
    # --- bottleneck ---
    bottleneck_type: str = _choice(
        "dense", ("average_pooling", "dense", "max_pooling", "flatten"), "bottleneck",
        help="How encoder features become a vector: a Dense layer, global average/max pooling, "
             "or plain flattening.")
    bottleneck_norm: str = _choice("none", ("none", "instance", "layer", "rms"), "bottleneck",
                                   help="Normalisation of the encoder output before the "
                                        "bottleneck.")
    bottleneck_size: int = _int(1024, 128, 4096, "bottleneck",
                                help="Width of the Dense bottleneck (only for `dense`).")
    bottleneck_in_encoder: bool = _bool(True, "bottleneck",
                                        help="`true`: one shared bottleneck at the end of "
                                             "`encoder`. `false`: every FC model (incl. "
                                             "`fc_shared`, `fc_gblock`) gets its own.")
    # --- hidden layers ---
    fc_depth: int = _int(1, 0, 16, "hidden",
                         help="Dense layers per FC model; 0 reshapes the bottleneck vector "
                              "directly.")
    fc_min_filters: int = _int(1024, 16, 5120, "hidden",
                               help="Filters per spatial cell of the first Dense layer (used alone"
                                    " when `fc_depth` = 1, so it must then equal "
                                    "`fc_max_filters`).")
    fc_max_filters: int = _int(1024, 128, 5120, "hidden",
                               help="Filters of the last Dense layer and of the reshape after it.")
    fc_dimensions: int = _int(4, 1, 16, "hidden",
                              help="Spatial size d of the FC reshape (d × d × filters).")
    fc_filter_slope: float = _float(-0.5, -0.99, 0.99, "hidden",
                                    help="Shape of the curve from min to max filters across the "
                                         "Dense layers (`phaze curve`).")
    fc_dropout: float = _float(0.0, 0.0, 0.99, "hidden", updatable=True,
                               help="Dropout before every Dense layer of the FC models. Can be "
                                    "changed when resuming.")
    fc_upsampler: str = _choice("upsample2d", FC_UPSAMPLERS, "hidden",
                                help="Upsampler used after the FC reshape.")
    fc_upsamples: int = _int(1, 0, 4, "hidden",
                             help="Number of ×2 upsamplings after the reshape.")
    fc_upsample_filters: int = _int(512, 128, 5120, "hidden",
                                    help="Output channels of each FC upsampler (ignored by "
                                         "`upsample2d`); auto-scaled like the FC filters.")
    # --- g-block hidden layers ---
    fc_gblock_depth: int = _int(3, 1, 16, "gblock",
                                help="Dense layers in `fc_gblock`.")
    fc_gblock_min_nodes: int = _int(512, 128, 5120, "gblock",
                                    help="Nodes of `fc_gblock`'s first Dense layer.")
    fc_gblock_max_nodes: int = _int(512, 128, 5120, "gblock",
                                    help="Nodes of `fc_gblock`'s last Dense layer.")
    fc_gblock_filter_slope: float = _float(-0.5, -0.99, 0.99, "gblock",
                                           help="Curve shape from min to max nodes.")
    fc_gblock_dropout: float = _float(0.0, 0.0, 0.99, "gblock", updatable=True,
                                      help="Dropout before every Dense layer of `fc_gblock`. Can "
                                           "be changed when resuming.")
    # --- decoder ---
    dec_upscale_method: str = _choice("subpixel", UPSCALERS, "decoder",
                                      help="Upscaler of every ×2 decoder stage. `upscale_dny` also"
                                           " adds two entry convolutions.")
    dec_upscales_in_fc: int = _int(0, 0, 6, "decoder",
                                   help="Move the first k decoder stages to the end of each FC "
                                        "model.")
    dec_norm: str = _choice(
        "none", ("none", "batch", "group", "instance", "layer", "rms"), "decoder",
        help="Normalisation inside every upscale stage (`group` needs multiples of 32 channels).")
    dec_min_filters: int = _int(64, 16, 512, "decoder",
                                help="Filters of the last upscale stage (curve end).")
    dec_max_filters: int = _int(512, 256, 5120, "decoder",
                                help="Filters of the first upscale stage (curve start) and of the "
                                     "DNY entry convolutions.")
    dec_slope_mode: str = _choice("full", ("full", "cap_max", "cap_min"), "decoder",
                                  help="How the decoder filter list is generated: a `full` curve, "
                                       "or halving-style `cap_max`/`cap_min`.")
    dec_filter_slope: float = _float(-0.45, -0.99, 0.99, "decoder",
                                     help="Decoder curve shape; negative drops the filters quickly"
                                          " at first (−0.45 halves them per stage).")
    dec_res_blocks: int = _int(1, 0, 8, "decoder",
                               help="Residual blocks after each upscale stage.")
    dec_output_kernel: int = _int(5, 1, 9, "decoder",
                                  help="Kernel size of the output convolution(s).")
    dec_gaussian: bool = _bool(True, "decoder",
                               help="Gaussian noise (σ = 1, training only) after each face-path "
                                    "upscaler.")
    dec_skip_last_residual: bool = _bool(True, "decoder",
                                         help="Omit residual blocks from the last stage of each "
                                              "upscale run.")
    # --- weights ---
    freeze_layers: tuple[str, ...] = _names(
        ("keras_encoder",), FREEZABLE_NAMES, "weights",
        help="Sub-models frozen when training with `--freeze-layers` (or this option). "
             "`keras_encoder` is the backbone inside `encoder`.")
    load_layers: tuple[str, ...] = _names(
        ("encoder",), SUBMODEL_NAMES, "weights",
        help="Sub-models copied from another model with `--load-weights`.")
    # --- fs_original encoder ---
    fs_original_depth: int = _int(4, 2, 10, "fs_original",
                                  help="Downscale steps of the built-in encoder.")
    fs_original_min_filters: int = _int(128, 16, 2048, "fs_original",
                                        help="Filters of its first step (doubled each step).")
    fs_original_max_filters: int = _int(1024, 256, 8192, "fs_original",
                                        help="Cap on the doubling.")
    fs_original_use_alt: bool = _bool(False, "fs_original",
                                      help="Use the alternate (DNY) variant of the built-in "
                                           "encoder.")
    # --- mobilenet encoders ---
    mobilenet_width: float = _float(1.0, 0.1, 2.0, "mobilenet",
                                    help="Width multiplier of MobileNet v1/v2/v3.")
    mobilenet_depth: int = _int(1, 1, 10, "mobilenet",
                                help="Depth multiplier of MobileNet v1's depthwise convolutions.")
    mobilenet_dropout: float = _float(0.001, 0.001, 2.0, "mobilenet",
                                      help="Kept for compatibility; no effect (there is no "
                                           "classifier head).")
    mobilenet_minimalistic: bool = _bool(False, "mobilenet",
                                         help="Use the minimalistic MobileNetV3.")
    # --- global options that change the network ---
    icnr_init: bool = _bool(False, "global",
                            help="ICNR initialisation for the convolutions inside upscalers.")
    conv_aware_init: bool = _bool(False, "global",
                                  help="Convolution-aware initialisation instead of He-uniform.")
    reflect_padding: bool = _bool(False, "global",
                                  help="Reflection padding in conv blocks and residual blocks.")
    learn_mask: bool = _bool(False, "global",
                             help="Add a mask branch to every decoder (a 1-channel sigmoid output "
                                  "per side), trained against the face masks.")

    def replace(self, **changes: Any) -> "PhazeAOptions":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


OPTION_FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(PhazeAOptions)}
UPDATABLE_OPTIONS = frozenset(n for n, f in OPTION_FIELDS.items() if f.metadata["updatable"])
