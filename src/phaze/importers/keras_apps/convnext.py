"""Keras ConvNeXt (Tiny … XLarge) → timm `convnext_*` (Phaze's convnext_* encoders).

Keras: `<m>_stem` (a Sequential: stem_conv, stem_layernorm), `<m>_downsampling_block_<i>`
(downsampling_layernorm_<i>, downsampling_conv_<i>), blocks `<m>_stage_<i>_block_<j>_`
{depthwise_conv, layernorm, pointwise_conv_1, pointwise_conv_2, layer_scale}, and without the
top an unnamed final LayerNormalization, which is timm's head norm. The pre-stem Normalization
holds ImageNet statistics for 0–255 input, which Phaze's FixedNormalise applies as constants:
they are checked, not copied.
"""
from __future__ import annotations

import re

import numpy as np
from torch import nn

from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.common import BackboneMapping

_STEM = re.compile(r"_stem_(conv|layernorm)$")
_DOWN = re.compile(r"_downsampling_(layernorm|conv)_(\d+)$")
_BLOCK = re.compile(r"_stage_(\d+)_block_(\d+)_(depthwise_conv|layernorm|pointwise_conv_1|"
                    r"pointwise_conv_2|layer_scale)$")
_BLOCK_PARTS = {"depthwise_conv": "conv_dw", "layernorm": "norm", "pointwise_conv_1": "mlp.fc1",
                "pointwise_conv_2": "mlp.fc2"}


def convnext_rule(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
    name, kind = layer.name, layer.class_name
    if kind == "Normalization":
        return _check_prestem(mapping, layer, backbone)
    module = None
    if match := _STEM.search(name):
        module = "net.stem.0" if match[1] == "conv" else "net.stem.1"
    elif match := _DOWN.search(name):
        stage = int(match[2]) + 1
        module = f"net.stages.{stage}.downsample.{0 if match[1] == 'layernorm' else 1}"
    elif match := _BLOCK.search(name):
        block = f"net.stages.{match[1]}.blocks.{match[2]}"
        if match[3] == "layer_scale":
            mapping.put(layer, f"{block}.gamma", layer.weights[0])
            return True
        module = f"{block}.{_BLOCK_PARTS[match[3]]}"
    elif kind == "LayerNormalization":   # the unnamed one after the last stage
        module = "net.head.norm"
    if module is None:
        return False
    if kind == "Conv2D":
        mapping.conv(layer, module)
    elif kind == "Dense":
        mapping.dense(layer, module)
    elif kind == "LayerNormalization":
        target = backbone.get_submodule(module)
        keras_eps = float(layer.config.get("epsilon", 1e-3))
        if abs(target.eps - keras_eps) > 1e-12:
            raise mapping.fail(layer, f"its epsilon {keras_eps} differs from Phaze's "
                                      f"'{module}' ({target.eps})")
        mapping.put(layer, f"{module}.weight", layer.weights[0])
        mapping.put(layer, f"{module}.bias", layer.weights[1])
    else:
        return False
    return True


def _check_prestem(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module) -> bool:
    """Keras keeps the ImageNet statistics in the config (or as weights); Phaze as constants."""
    config = layer.config
    mean = layer.weights[0] if layer.weights else config.get("mean")
    variance = layer.weights[1] if len(layer.weights) > 1 else config.get("variance")
    preprocess = getattr(backbone, "preprocess", None)
    if mean is None or variance is None or not hasattr(preprocess, "mean"):
        return False
    if not (np.allclose(np.reshape(mean, -1), preprocess.mean, rtol=1e-5)
            and np.allclose(np.sqrt(np.reshape(variance, -1)), preprocess.std, rtol=1e-5)):
        raise mapping.fail(layer, "its statistics are not the ImageNet ones Phaze's ConvNeXt "
                                  "applies")
    return True
