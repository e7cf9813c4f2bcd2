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


def _int(default: int, low: int, high: int, group: str, updatable: bool = False) -> Any:
    return field(default=default, metadata={"kind": int, "range": (low, high), "group": group,
                                            "updatable": updatable})


def _float(default: float, low: float, high: float, group: str, updatable: bool = False) -> Any:
    return field(default=default, metadata={"kind": float, "range": (low, high), "group": group,
                                            "updatable": updatable})


def _bool(default: bool, group: str) -> Any:
    return field(default=default, metadata={"kind": bool, "group": group, "updatable": False})


def _choice(default: str, choices: tuple[str, ...] | None, group: str) -> Any:
    """A string option; `choices=None` means the encoder registry validates it."""
    return field(default=default, metadata={"kind": str, "choices": choices, "group": group,
                                            "updatable": False})


def _names(default: tuple[str, ...], choices: tuple[str, ...], group: str) -> Any:
    return field(default=default, metadata={"kind": tuple, "choices": choices, "group": group,
                                            "updatable": True})


@dataclass(frozen=True)
class PhazeAOptions:
    """All options that shape a Phaze-A network, with faceswap's names and defaults (spec §3)."""

    # --- general (§3.1) ---
    output_size: int = _int(128, 64, 2048, "general")
    shared_fc: str = _choice("none", ("none", "full", "half"), "general")
    enable_gblock: bool = _bool(True, "general")
    split_fc: bool = _bool(True, "general")
    split_gblock: bool = _bool(False, "general")
    split_decoders: bool = _bool(False, "general")
    # --- encoder (§3.2) ---
    enc_architecture: str = _choice("fs_original", None, "encoder")
    enc_scaling: int = _int(7, 0, 200, "encoder")
    enc_load_weights: bool = _bool(True, "encoder")
    # --- bottleneck (§3.3) ---
    bottleneck_type: str = _choice(
        "dense", ("average_pooling", "dense", "max_pooling", "flatten"), "bottleneck")
    bottleneck_norm: str = _choice("none", ("none", "instance", "layer", "rms"), "bottleneck")
    bottleneck_size: int = _int(1024, 128, 4096, "bottleneck")
    bottleneck_in_encoder: bool = _bool(True, "bottleneck")
    # --- hidden layers (§3.4) ---
    fc_depth: int = _int(1, 0, 16, "hidden")
    fc_min_filters: int = _int(1024, 16, 5120, "hidden")
    fc_max_filters: int = _int(1024, 128, 5120, "hidden")
    fc_dimensions: int = _int(4, 1, 16, "hidden")
    fc_filter_slope: float = _float(-0.5, -0.99, 0.99, "hidden")
    fc_dropout: float = _float(0.0, 0.0, 0.99, "hidden", updatable=True)
    fc_upsampler: str = _choice("upsample2d", FC_UPSAMPLERS, "hidden")
    fc_upsamples: int = _int(1, 0, 4, "hidden")
    fc_upsample_filters: int = _int(512, 128, 5120, "hidden")
    # --- g-block hidden layers (§3.5) ---
    fc_gblock_depth: int = _int(3, 1, 16, "gblock")
    fc_gblock_min_nodes: int = _int(512, 128, 5120, "gblock")
    fc_gblock_max_nodes: int = _int(512, 128, 5120, "gblock")
    fc_gblock_filter_slope: float = _float(-0.5, -0.99, 0.99, "gblock")
    fc_gblock_dropout: float = _float(0.0, 0.0, 0.99, "gblock", updatable=True)
    # --- decoder (§3.6) ---
    dec_upscale_method: str = _choice("subpixel", UPSCALERS, "decoder")
    dec_upscales_in_fc: int = _int(0, 0, 6, "decoder")
    dec_norm: str = _choice(
        "none", ("none", "batch", "group", "instance", "layer", "rms"), "decoder")
    dec_min_filters: int = _int(64, 16, 512, "decoder")
    dec_max_filters: int = _int(512, 256, 5120, "decoder")
    dec_slope_mode: str = _choice("full", ("full", "cap_max", "cap_min"), "decoder")
    dec_filter_slope: float = _float(-0.45, -0.99, 0.99, "decoder")
    dec_res_blocks: int = _int(1, 0, 8, "decoder")
    dec_output_kernel: int = _int(5, 1, 9, "decoder")
    dec_gaussian: bool = _bool(True, "decoder")
    dec_skip_last_residual: bool = _bool(True, "decoder")
    # --- weights (§3.7) ---
    freeze_layers: tuple[str, ...] = _names(("keras_encoder",), FREEZABLE_NAMES, "weights")
    load_layers: tuple[str, ...] = _names(("encoder",), SUBMODEL_NAMES, "weights")
    # --- fs_original encoder (§3.8) ---
    fs_original_depth: int = _int(4, 2, 10, "fs_original")
    fs_original_min_filters: int = _int(128, 16, 2048, "fs_original")
    fs_original_max_filters: int = _int(1024, 256, 8192, "fs_original")
    fs_original_use_alt: bool = _bool(False, "fs_original")
    # --- mobilenet encoders (§3.9) ---
    mobilenet_width: float = _float(1.0, 0.1, 2.0, "mobilenet")
    mobilenet_depth: int = _int(1, 1, 10, "mobilenet")
    mobilenet_dropout: float = _float(0.001, 0.001, 2.0, "mobilenet")
    mobilenet_minimalistic: bool = _bool(False, "mobilenet")
    # faceswap compatibility (§12 #12): Keras' own x/127.5 − 1 after the [−1, 1] mapping, which
    # faceswap's MobileNetV3 applies; set by `phaze import-faceswap`, off for new models
    mobilenet_v3_double_rescale: bool = _bool(False, "mobilenet")
    # --- global options that change the network (§3.10) ---
    icnr_init: bool = _bool(False, "global")
    conv_aware_init: bool = _bool(False, "global")
    reflect_padding: bool = _bool(False, "global")
    learn_mask: bool = _bool(False, "global")

    def replace(self, **changes: Any) -> "PhazeAOptions":
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        values = dataclasses.asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


OPTION_FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(PhazeAOptions)}
UPDATABLE_OPTIONS = frozenset(n for n, f in OPTION_FIELDS.items() if f.metadata["updatable"])
