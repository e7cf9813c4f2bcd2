"""Keras VGG16/19 (`block<b>_conv<c>`) → Phaze's VGG, a flat Sequential of conv, ReLU, pools."""
from __future__ import annotations

import re

from torch import nn

from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import BackboneMapping

_CONV = re.compile(r"block(\d+)_conv(\d+)$")


def vgg_rule(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
    """The c-th conv of block b is the Sequential's conv after every conv of blocks < b."""
    match = _CONV.match(layer.name)
    if match is None or layer.class_name != "Conv2D":
        return False
    # Phaze's VGG: per block `convs` × (conv, ReLU) then one max-pool
    convs = [index for index, module in enumerate(backbone) if isinstance(module, nn.Conv2d)]
    pools = [index for index, module in enumerate(backbone) if isinstance(module, nn.MaxPool2d)]
    block, conv = int(match[1]) - 1, int(match[2]) - 1
    start = pools[block - 1] + 1 if block else 0
    in_block = [index for index in convs if index >= start
                and (block >= len(pools) or index < pools[block])]
    if block > len(pools) or conv >= len(in_block):
        return False
    mapping.conv(layer, str(in_block[conv]))
    return True
