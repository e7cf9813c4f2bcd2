"""Keras InceptionV3 / InceptionResNetV2 → timm `inception_v3` / `inception_resnet_v2`, by order.

Keras builds InceptionV3 from `conv2d_bn` units (Conv2D without bias, BatchNormalization
without γ) and names none of them (conv2d_N, batch_normalization_N, numbered by a
per-process counter). Its graph, walked depth-first from the output with each concatenation's
branches in argument order, calls them in the same order as timm's forward pass calls its
BasicConv2d units (branch1x1, then 5×5 / 7×7 / 3×3 branches, then the pool branch), so the
n-th Keras convolution and norm belong to the n-th BasicConv2d timm calls. Shapes are checked
for every tensor, so an order that differs fails by name instead of loading garbage.

InceptionResNetV2 is matched the same way, its few named convolutions included (each block's
biased `block*_conv` up-projection, timm's `conv2d`, and `conv_7b`): every Keras convolution
in graph order is the next convolution timm calls, and a norm belongs to the convolution just
before it.
"""
from __future__ import annotations

import re

import torch
from torch import nn

from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import BackboneMapping, conv_or_norm

_UNNAMED = re.compile(r"(conv2d|batch_normalization)(_\d+)?$")
PROBE_SIZE_PX = 75   # Keras' minimum input for the Inception nets


def conv_call_order(backbone: nn.Module, size_px: int = PROBE_SIZE_PX) -> list[str]:
    """Module paths of the convolutions in the order one forward pass first calls them."""
    names = {module: name for name, module in backbone.named_modules()
             if isinstance(module, nn.Conv2d)}
    order: list[str] = []
    hooks = [module.register_forward_hook(
        lambda module, _in, _out: order.append(names[module]) if names[module] not in order
        else None) for module in names]
    try:
        was_training = backbone.training
        with torch.no_grad():
            backbone.eval()(torch.zeros(1, 3, size_px, size_px))
        backbone.train(was_training)
    finally:
        for hook in hooks:
            hook.remove()
    return order


class GraphOrderRule:
    """The n-th Keras Conv2D → the n-th conv timm calls; a BatchNormalization → that conv's norm.

    `unnamed_only`: only Keras' auto-named layers (conv2d_N, batch_normalization_N) are taken.
    `norm_of` names the norm that follows a conv module (timm's ConvNormAct: conv → bn).
    """

    def __init__(self, unnamed_only: bool = True,
                 norm_of=lambda conv: conv.rsplit(".", 1)[0] + ".bn") -> None:
        self.unnamed_only = unnamed_only
        self.norm_of = norm_of
        self.order: list[str] | None = None
        self.convs = 0
        self.last_conv: str | None = None

    def __call__(self, mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
        if self.unnamed_only and not _UNNAMED.match(layer.name):
            return False
        if layer.class_name == "Conv2D":
            if self.order is None:
                self.order = conv_call_order(backbone)
            if self.convs >= len(self.order):
                return False
            self.last_conv = self.order[self.convs]
            self.convs += 1
            return conv_or_norm(mapping, layer, backbone, self.last_conv)
        if layer.class_name == "BatchNormalization" and self.last_conv is not None:
            return conv_or_norm(mapping, layer, backbone, self.norm_of(self.last_conv))
        return False
