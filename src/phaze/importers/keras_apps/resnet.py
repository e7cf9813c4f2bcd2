"""Keras ResNet50/101/152 v1 and v2 → timm `resnet*` / `resnetv2_*` (Phaze's resnet* encoders).

Keras v1: conv1_conv/bn, then conv<s>_block<n>_<k>_{conv,bn} for stage s = 2…5, where k = 0 is
the projection shortcut and 1…3 the bottleneck's convolutions. timm: conv1/bn1, then
layer<s−1>.<n−1>.conv<k>/bn<k>, the shortcut being downsample.0 (conv) / downsample.1 (norm).

Keras v2 (pre-activation): conv1_conv (stem, no norm), conv<s>_block<n>_preact_bn, _0_conv
(shortcut), _1_conv, _1_bn, _2_conv, _2_bn, _3_conv, and post_bn. timm:
stages.<s−2>.blocks.<n−1>.{norm1, downsample.conv, conv1, norm2, conv2, norm3, conv3}, norm.
"""
from __future__ import annotations

import re

from torch import nn

from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import BackboneMapping, conv_or_norm

_BLOCK = re.compile(r"conv(\d)_block(\d+)_(\d)_(conv|bn)$")


def resnet_v1_rule(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
    module = {"conv1_conv": "net.conv1", "conv1_bn": "net.bn1"}.get(layer.name)
    match = _BLOCK.match(layer.name)
    if match is not None:
        block = f"net.layer{int(match[1]) - 1}.{int(match[2]) - 1}"
        part, kind = int(match[3]), match[4]
        if part == 0:
            module = f"{block}.downsample.{0 if kind == 'conv' else 1}"
        else:
            module = f"{block}.{kind}{part}"
    return conv_or_norm(mapping, layer, backbone, module)


_V2_PARTS = {"preact_bn": "norm1", "0_conv": "downsample.conv", "1_conv": "conv1",
             "1_bn": "norm2", "2_conv": "conv2", "2_bn": "norm3", "3_conv": "conv3"}
_V2_BLOCK = re.compile(r"conv(\d)_block(\d+)_(preact_bn|\d_conv|\d_bn)$")


def resnet_v2_rule(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
    module = {"conv1_conv": "net.stem.conv", "post_bn": "net.norm"}.get(layer.name)
    match = _V2_BLOCK.match(layer.name)
    if match is not None and match[3] in _V2_PARTS:
        module = (f"net.stages.{int(match[1]) - 2}.blocks.{int(match[2]) - 1}."
                  f"{_V2_PARTS[match[3]]}")
    return conv_or_norm(mapping, layer, backbone, module)
