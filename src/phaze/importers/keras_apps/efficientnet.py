"""Keras EfficientNet B0–B7 and EfficientNetV2 → timm `tf_efficientnet*` (efficientnet_* encoders).

Keras names blocks `block<stage><letter>_<part>` (stage from 1, letter = repeat); timm holds
them as `blocks.<stage-1>.<repeat>`. Stage 1 blocks have no expansion (timm's
DepthwiseSeparableConv), the others are inverted residuals; the part names differ between the
two. Input layers: Rescaling(1/255) → Normalization → (with ImageNet weights) a second
Rescaling by 1/√std that Keras adds to fix its stored statistics; Phaze's
KerasEfficientNetInput computes (x/255 − mean)/√variance, so that second scale is folded into
the imported variance (v / s²).

EfficientNetV2 (built by faceswap without its own preprocessing) names its depthwise conv
`dwconv2` and adds fused blocks: with expansion (timm's EdgeResidual: conv_exp → conv_pwl) or
without (timm's ConvBnAct: only `project_conv`, onto `conv`).
"""
from __future__ import annotations

import re

import numpy as np
from torch import nn

from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import BackboneMapping

_BLOCK = re.compile(r"block(\d+)([a-z])_(\w+)$")
_INVERTED = {"expand_conv": "conv_pw", "expand_bn": "bn1", "dwconv": "conv_dw", "bn": "bn2",
             "se_reduce": "se.conv_reduce", "se_expand": "se.conv_expand",
             "project_conv": "conv_pwl", "project_bn": "bn3"}
_INVERTED["dwconv2"] = "conv_dw"   # EfficientNetV2's name for the same layer
_EDGE = {"expand_conv": "conv_exp", "expand_bn": "bn1", "se_reduce": "se.conv_reduce",
         "se_expand": "se.conv_expand", "project_conv": "conv_pwl", "project_bn": "bn2"}
_CONV_BN_ACT = {"project_conv": "conv", "project_bn": "bn1"}
_SEPARABLE = {"dwconv": "conv_dw", "bn": "bn1", "se_reduce": "se.conv_reduce",
              "se_expand": "se.conv_expand", "project_conv": "conv_pw", "project_bn": "bn2"}
_TOP = {"stem_conv": "net.conv_stem", "stem_bn": "net.bn1", "top_conv": "net.conv_head",
        "top_bn": "net.bn2"}


class EfficientNetRule:
    """One Keras EfficientNet layer at a time; remembers the input statistics to fold."""

    def __init__(self) -> None:
        self.rescalings = 0
        self.variance: np.ndarray | None = None

    def __call__(self, mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module
                 ) -> bool:
        if layer.class_name == "Rescaling":
            return self._rescaling(mapping, layer)
        if layer.class_name == "Normalization":
            return self._normalization(mapping, layer)
        module = _TOP.get(layer.name) or _block_module(layer.name, backbone)
        if module is None:
            return False
        if layer.class_name in ("Conv2D", "DepthwiseConv2D"):
            mapping.conv(layer, module)
        elif layer.class_name == "BatchNormalization":
            mapping.batch_norm(layer, backbone.get_submodule(module), module)
        else:
            return False
        return True

    def _normalization(self, mapping: BackboneMapping, layer: KerasLayer) -> bool:
        """Mean and variance: weights (EfficientNet) or arguments (EfficientNetV2's own
        preprocessing, which only a backbone with an input Normalization can carry)."""
        weights = layer.weights
        mean = weights[0] if weights else layer.config.get("mean")
        variance = weights[1] if len(weights) > 1 else layer.config.get("variance")
        if mean is None or variance is None:
            return False
        self.variance = np.asarray(variance, np.float32).reshape(-1)
        mapping.put(layer, "preprocess.mean", np.asarray(mean, np.float32).reshape(-1))
        mapping.put(layer, "preprocess.variance", self.variance)
        mapping.put(layer, "preprocess.count", np.asarray(
            weights[2] if len(weights) > 2 else 0, np.float32).reshape(()))
        return True

    def _rescaling(self, mapping: BackboneMapping, layer: KerasLayer) -> bool:
        scale = np.asarray(layer.config.get("scale", 1.0), np.float64).reshape(-1)
        offset = np.asarray(layer.config.get("offset", 0.0), np.float64).reshape(-1)
        self.rescalings += 1
        if np.any(offset != 0):
            raise mapping.fail(layer, f"its offset {offset.tolist()} has no Phaze counterpart")
        if self.rescalings == 1:   # x / 255, which Phaze's input layer applies itself
            if not np.allclose(scale, 1 / 255, rtol=1e-6):
                raise mapping.fail(layer, f"its scale {scale.tolist()} is not 1/255")
            return True
        if self.variance is None or self.rescalings > 2:
            raise mapping.fail(layer, "Phaze expects at most one scale after Normalization")
        # (x − m)/√v · s = (x − m)/√(v/s²)
        mapping.put(layer, "preprocess.variance",
                    (self.variance / (scale.astype(np.float32) ** 2)).astype(np.float32))
        return True


def _block_module(name: str, backbone: nn.Module) -> str | None:
    match = _BLOCK.match(name)
    if match is None:
        return None
    stage, repeat, part = int(match[1]) - 1, ord(match[2]) - ord("a"), match[3]
    try:
        block = backbone.net.blocks[stage][repeat]
    except (IndexError, AttributeError):
        return None
    if hasattr(block, "conv_exp"):
        parts = _EDGE
    elif hasattr(block, "conv_pwl"):
        parts = _INVERTED
    elif hasattr(block, "conv_dw"):
        parts = _SEPARABLE
    else:
        parts = _CONV_BN_ACT
    return f"net.blocks.{stage}.{repeat}.{parts[part]}" if part in parts else None
