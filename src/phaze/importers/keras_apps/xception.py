"""Keras Xception → timm `legacy_xception` (Phaze's xception encoder).

Keras names the entry convolutions block1_conv1/2 (timm conv1/conv2), the separable convs
block<b>_sepconv<k> (+ _bn) for b = 2…13 (timm block<b−1>: the k-th SeparableConv2d of its
`rep` and the norm after it) and block14_sepconv1/2 (timm conv3/conv4). Its four projection
shortcuts (blocks 2, 3, 4, 13) are left unnamed (conv2d_N, batch_normalization_N): they are
matched in graph order to timm's blocks that have a `skip`.
"""
from __future__ import annotations

import re

from torch import nn

from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import (BackboneMapping, conv_kernel, conv_or_norm,
                                             depthwise_kernel)

_ENTRY = {"block1_conv1": "net.conv1", "block1_conv1_bn": "net.bn1", "block1_conv2": "net.conv2",
          "block1_conv2_bn": "net.bn2", "block14_sepconv1": "net.conv3",
          "block14_sepconv1_bn": "net.bn3", "block14_sepconv2": "net.conv4",
          "block14_sepconv2_bn": "net.bn4"}
_SEPARABLE = re.compile(r"block(\d+)_sepconv(\d)(_bn)?$")
_UNNAMED = re.compile(r"(conv2d|batch_normalization)(_\d+)?$")


class XceptionRule:
    """Stateful: counts the unnamed shortcut layers as they come."""

    def __init__(self) -> None:
        self.shortcuts = {"Conv2D": 0, "BatchNormalization": 0}

    def __call__(self, mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
        module = _ENTRY.get(layer.name)
        if module is None and (match := _SEPARABLE.match(layer.name)):
            module = _rep_module(backbone, int(match[1]) - 1, int(match[2]) - 1, bool(match[3]))
        if module is None and _UNNAMED.match(layer.name) and layer.class_name in self.shortcuts:
            module = self._shortcut(backbone, layer.class_name)
        if module is None:
            return False
        if layer.class_name == "SeparableConv2D":
            mapping.put(layer, f"{module}.conv1.weight", depthwise_kernel(layer.weights[0]))
            mapping.put(layer, f"{module}.pointwise.weight", conv_kernel(layer.weights[1]))
            if len(layer.weights) > 2:
                mapping.put(layer, f"{module}.pointwise.bias", layer.weights[2])
            return True
        return conv_or_norm(mapping, layer, backbone, module)

    def _shortcut(self, backbone: nn.Module, class_name: str) -> str | None:
        blocks = [name for name, block in backbone.net.named_children()
                  if getattr(block, "skip", None) is not None]
        index = self.shortcuts[class_name]
        self.shortcuts[class_name] += 1
        if index >= len(blocks):
            return None
        return f"net.{blocks[index]}.{'skip' if class_name == 'Conv2D' else 'skipbn'}"


def _rep_module(backbone: nn.Module, block: int, conv: int, norm: bool) -> str | None:
    """The k-th separable conv of timm's block<b> (or the batch norm right after it)."""
    rep = getattr(getattr(backbone.net, f"block{block}", None), "rep", None)
    if rep is None:
        return None
    separable = [index for index, module in enumerate(rep) if hasattr(module, "pointwise")]
    if conv >= len(separable):
        return None
    index = separable[conv] + (1 if norm else 0)
    return f"net.block{block}.rep.{index}"
