"""Keras MobileNet (v1), MobileNetV2 and MobileNetV3 → the timm MobileNets Phaze builds.

Keras numbers blocks over the whole net (`conv_dw_<n>`, `block_<n>_…`), timm groups them in
stages (`blocks.<stage>.<i>`): the n-th Keras block is the n-th timm block in call order.
"""
from __future__ import annotations

import re

import numpy as np
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import BackboneMapping, conv_or_norm


def _flat_blocks(backbone: nn.Module) -> list[str]:
    """timm block paths in call order: net.blocks.<stage>.<i>."""
    return [f"net.blocks.{stage}.{index}" for stage, blocks in enumerate(backbone.net.blocks)
            for index in range(len(blocks))]


_map = conv_or_norm


_V1 = re.compile(r"conv_(dw|pw)_(\d+)(_bn)?$")


def mobilenet_v1_rule(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
    """conv1 → conv_stem; conv_dw_n / conv_pw_n (+ _bn) → block n−1's conv_dw/bn1, conv_pw/bn2."""
    stem = {"conv1": "net.conv_stem", "conv1_bn": "net.bn1"}
    module = stem.get(layer.name)
    match = _V1.match(layer.name)
    if module is None and match is not None:
        blocks = _flat_blocks(backbone)
        index = int(match[2]) - 1
        if 0 <= index < len(blocks):
            part = {("dw", False): "conv_dw", ("dw", True): "bn1", ("pw", False): "conv_pw",
                    ("pw", True): "bn2"}[(match[1], bool(match[3]))]
            module = f"{blocks[index]}.{part}"
    return _map(mapping, layer, backbone, module)


_V2 = re.compile(r"block_(\d+)_(expand|depthwise|project)(_BN)?$")
_V2_FIRST = {"expanded_conv_depthwise": "conv_dw", "expanded_conv_depthwise_BN": "bn1",
             "expanded_conv_project": "conv_pw", "expanded_conv_project_BN": "bn2"}
_V2_PARTS = {("expand", False): "conv_pw", ("expand", True): "bn1",
             ("depthwise", False): "conv_dw", ("depthwise", True): "bn2",
             ("project", False): "conv_pwl", ("project", True): "bn3"}


def mobilenet_v2_rule(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
    """Conv1/bn_Conv1 → stem; expanded_conv_* → block 0; block_n_* → block n; Conv_1 → head."""
    blocks = _flat_blocks(backbone)
    fixed = {"Conv1": "net.conv_stem", "bn_Conv1": "net.bn1", "Conv_1": "net.conv_head",
             "Conv_1_bn": "net.bn2"}
    module = fixed.get(layer.name)
    if module is None and layer.name in _V2_FIRST:
        module = f"{blocks[0]}.{_V2_FIRST[layer.name]}"
    match = _V2.match(layer.name)
    if module is None and match is not None and int(match[1]) < len(blocks):
        module = f"{blocks[int(match[1])]}.{_V2_PARTS[(match[2], bool(match[3]))]}"
    return _map(mapping, layer, backbone, module)


# --- MobileNetV3 ------------------------------------------------------------------------------
# Keras names block n `expanded_conv_<n>_…` (block 0: `expanded_conv_…`); timm's blocks in call
# order are the same blocks, then a ConvBnAct holding Keras' last conv (`conv_1`). Block 0 has
# no expansion (timm's DepthwiseSeparableConv), the others are inverted residuals.
_V3 = re.compile(r"expanded_conv(?:_(\d+))?_(expand|depthwise|squeeze_excite_conv|"
                 r"squeeze_excite_conv_1|project)(_bn)?$")
_V3_SEPARABLE = {("depthwise", False): "conv_dw", ("depthwise", True): "bn1",
                 ("project", False): "conv_pw", ("project", True): "bn2"}
_V3_INVERTED = {("expand", False): "conv_pw", ("expand", True): "bn1",
                ("depthwise", False): "conv_dw", ("depthwise", True): "bn2",
                ("project", False): "conv_pwl", ("project", True): "bn3"}
_V3_SE = {"squeeze_excite_conv": "se.conv_reduce", "squeeze_excite_conv_1": "se.conv_expand"}


class MobileNetV3Rule:
    """Keras MobileNetV3 (small/large, any width, minimalistic or not) → timm's MobileNetV3.

    Keras' input Rescaling(1/127.5, −1) (faceswap never switches it off, faceswap defect 12) must meet
    Phaze's KerasRescaling with the same constants (`mobilenet_v3_double_rescale`), and a
    backbone that rescales needs the Keras layer: either way the two compute one function.
    """

    def __init__(self, layers: list[KerasLayer]) -> None:
        self.keras_rescales = any(layer.class_name == "Rescaling" for layer in layers)
        self.checked = False

    def __call__(self, mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
        if not self.checked:
            self.checked = True
            if _rescaling(backbone) is not None and not self.keras_rescales:
                raise mapping.fail(layer, "and the application has no input Rescaling, which "
                                          "Phaze's backbone applies (mobilenet_v3_double_rescale)")
        if layer.class_name == "Rescaling":
            return self._input_rescaling(mapping, layer, backbone)
        blocks = _flat_blocks(backbone)
        fixed = {"conv": "net.conv_stem", "conv_bn": "net.bn1", "conv_1": f"{blocks[-1]}.conv",
                 "conv_1_bn": f"{blocks[-1]}.bn1"}
        module = fixed.get(layer.name)
        match = _V3.match(layer.name)
        if module is None and match is not None:
            index = int(match[1] or 0)
            if index < len(blocks) - 1:
                block = backbone.get_submodule(blocks[index])
                parts = _V3_INVERTED if hasattr(block, "conv_pwl") else _V3_SEPARABLE
                part = _V3_SE.get(match[2]) if match[3] is None else None
                part = part or parts.get((match[2], bool(match[3])))
                module = f"{blocks[index]}.{part}" if part else None
        return _map(mapping, layer, backbone, module)

    @staticmethod
    def _input_rescaling(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module
                         ) -> bool:
        from phaze.model.encoders.timm_features import KERAS_MOBILENET_V3_RESCALING

        scale = np.asarray(layer.config.get("scale", 1.0), np.float64).reshape(-1)
        offset = np.asarray(layer.config.get("offset", 0.0), np.float64).reshape(-1)
        expected_scale, expected_offset = KERAS_MOBILENET_V3_RESCALING
        if not (np.allclose(scale, expected_scale, rtol=1e-6, atol=0)
                and np.allclose(offset, expected_offset, rtol=1e-6, atol=0)):
            raise mapping.fail(layer, f"its scale {scale.tolist()} and offset {offset.tolist()} "
                                      "are not Keras' MobileNetV3 input rescale (1/127.5, −1)")
        if _rescaling(backbone) is None:
            raise mapping.fail(layer, "and Phaze's backbone does not rescale its input a second "
                                      "time (option mobilenet_v3_double_rescale is off)")
        return True


def _rescaling(backbone: nn.Module):
    from phaze.model.encoders.timm_features import KerasRescaling

    preprocess = getattr(backbone, "preprocess", None)
    return preprocess if isinstance(preprocess, KerasRescaling) else None


# --- the options faceswap actually built MobileNetV3 with ---------------------------------------
# Keras' output channels of block n's project conv at width 1, and of the last conv (conv_1)
_V3_BLOCK_CHANNELS = {"small": (16, 24, 24, 40, 40, 40, 48, 48, 96, 96, 96),
                      "large": (16, 24, 24, 40, 40, 40, 80, 80, 80, 80, 112, 112, 160, 160, 160)}
_V3_LAST_CHANNELS = {"small": 576, "large": 960}


def _divisible(value: float, divisor: int = 8) -> int:
    """Keras' `_depth` and timm's `make_divisible` (the same rule)."""
    rounded = max(divisor, int(value + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * value else rounded


def _v3_channels(size: str, width: float) -> dict[str, int]:
    """Output channels of the stem, each project conv and the last conv in Phaze's build."""
    out = {"conv": 16 if width < 0.75 else _divisible(16 * width),   # timm: fix_stem below 0.75
           "conv_1": _divisible(_V3_LAST_CHANNELS[size] * width)}
    for index, channels in enumerate(_V3_BLOCK_CHANNELS[size]):
        out[f"expanded_conv_{index}_project" if index else "expanded_conv_project"] = \
            _divisible(channels * width)
    return out


def mobilenet_v3_options(options: PhazeAOptions, layers: list[KerasLayer]) -> PhazeAOptions:
    """The options faceswap's file was built with: faceswap passes MobileNetV3 neither
    `mobilenet_width` nor `mobilenet_minimalistic`, nor switches its input rescale off (faceswap
    defect 12), so they are read from the application's layers rather than from the state file.

    Width: the first of the state file's value, 1.0 (what faceswap builds) and 0.10 … 2.00
    whose channel counts are the file's; if none fits, the state file's value stays and the
    mapping names the first layer that does not fit.
    """
    size = "small" if options.enc_architecture.endswith("small") else "large"
    keras = {layer.name: int(layer.weights[0].shape[-1]) for layer in layers
             if layer.class_name == "Conv2D" and layer.weights}
    width = options.mobilenet_width
    for candidate in [options.mobilenet_width, 1.0] + [k / 100 for k in range(10, 201)]:
        expected = _v3_channels(size, candidate)
        if all(keras.get(name) == channels for name, channels in expected.items()):
            width = candidate
            break
    return options.replace(
        mobilenet_width=width,
        mobilenet_minimalistic=not any("squeeze_excite" in layer.name for layer in layers),
        mobilenet_v3_double_rescale=any(layer.class_name == "Rescaling" for layer in layers))
