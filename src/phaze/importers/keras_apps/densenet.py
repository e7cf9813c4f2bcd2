"""Keras DenseNet121/169/201 → timm `densenet*` (Phaze's densenet* encoders).

Keras: conv1_conv/bn, conv<b>_block<n>_{0_bn,1_conv,1_bn,2_conv} for dense block b = 2…5,
pool<b>_{bn,conv} for the transitions after blocks 2…4, and the final `bn`. timm: features.conv0 /
norm0, denseblock<b−1>.denselayer<n>.{norm1,conv1,norm2,conv2}, transition<b−1>.{norm,conv},
norm5.
"""
from __future__ import annotations

import re

from torch import nn

from phaze.importers.keras_apps.common import BackboneMapping, conv_or_norm
from phaze.importers.faceswap_keras import KerasLayer

_LAYER = re.compile(r"conv(\d)_block(\d+)_(0_bn|1_conv|1_bn|2_conv)$")
_TRANSITION = re.compile(r"pool(\d)_(bn|conv)$")
_LAYER_PARTS = {"0_bn": "norm1", "1_conv": "conv1", "1_bn": "norm2", "2_conv": "conv2"}
_FIXED = {"conv1_conv": "net.features.conv0", "conv1_bn": "net.features.norm0",
          "bn": "net.features.norm5"}


def densenet_rule(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
    module = _FIXED.get(layer.name)
    match = _LAYER.match(layer.name)
    if match is not None:
        module = (f"net.features.denseblock{int(match[1]) - 1}.denselayer{match[2]}."
                  f"{_LAYER_PARTS[match[3]]}")
    match = _TRANSITION.match(layer.name)
    if match is not None:
        module = (f"net.features.transition{int(match[1]) - 1}."
                  f"{'norm' if match[2] == 'bn' else 'conv'}")
    return conv_or_norm(mapping, layer, backbone, module)
