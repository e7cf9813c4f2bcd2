"""Keras MobileNet (v1) and MobileNetV2 → the timm MobileNets Phaze builds.

Keras numbers blocks over the whole net (`conv_dw_<n>`, `block_<n>_…`), timm groups them in
stages (`blocks.<stage>.<i>`): the n-th Keras block is the n-th timm block in call order.
"""
from __future__ import annotations

import re

from torch import nn

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
