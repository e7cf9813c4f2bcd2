"""Keras-application encoders of faceswap models → Phaze's timm backbones, one mapper per family.

`map_backbone` takes the layers of the Keras application nested in faceswap's encoder and the
Phaze backbone built from the same options, and returns the backbone's state_dict entries.
Mappers match Keras layer names (fixed by `keras.applications`) to timm module paths; where
Keras leaves layers unnamed (Inception, Xception's shortcuts) they follow the graph order.
"""
from __future__ import annotations

from typing import Callable

import torch
from torch import nn

from phaze.errors import ModelDirError
from phaze.importers.faceswap_keras import KerasLayer
from phaze.importers.keras_apps.clip import ClipRule
from phaze.importers.keras_apps.common import BackboneMapping, LayerRule, apply_rules
from phaze.importers.keras_apps.convnext import convnext_rule
from phaze.importers.keras_apps.densenet import densenet_rule
from phaze.importers.keras_apps.efficientnet import EfficientNetRule
from phaze.importers.keras_apps.inception import GraphOrderRule
from phaze.importers.keras_apps.mobilenet import mobilenet_v1_rule, mobilenet_v2_rule
from phaze.importers.keras_apps.nasnet import NASNetRule
from phaze.importers.keras_apps.resnet import resnet_v1_rule, resnet_v2_rule
from phaze.importers.keras_apps.vgg import vgg_rule
from phaze.importers.keras_apps.xception import XceptionRule

RuleFactory = Callable[[list[KerasLayer]], LayerRule]   # the application's layers → its rule


def _stateless(rule: LayerRule) -> RuleFactory:
    return lambda _layers: rule


# Phaze encoder name (prefix; the longest match wins) → the rule for its Keras application
RULES: dict[str, RuleFactory] = {
    "clipv_": ClipRule,
    "convnext_": _stateless(convnext_rule),
    "densenet": _stateless(densenet_rule),
    "efficientnet_b": lambda _layers: EfficientNetRule(),
    "efficientnet_v2_": lambda _layers: EfficientNetRule(),
    "inception_resnet_v2": lambda _layers: GraphOrderRule(unnamed_only=False),
    "inception_v3": lambda _layers: GraphOrderRule(),
    "mobilenet": _stateless(mobilenet_v1_rule),
    "mobilenet_v2": _stateless(mobilenet_v2_rule),
    "nasnet_": NASNetRule,
    "resnet50": _stateless(resnet_v1_rule),
    "resnet101": _stateless(resnet_v1_rule),
    "resnet152": _stateless(resnet_v1_rule),
    "resnet50_v2": _stateless(resnet_v2_rule),
    "resnet101_v2": _stateless(resnet_v2_rule),
    "resnet152_v2": _stateless(resnet_v2_rule),
    "vgg16": _stateless(vgg_rule),
    "vgg19": _stateless(vgg_rule),
    "xception": lambda _layers: XceptionRule(),
}

# encoders refused on purpose, with the reason (checked before RULES)
_WHY_NOT = {
    "mobilenet_v3": "Keras' MobileNetV3 rescales its input a second time inside the "
                    "application, which Phaze's MobileNetV3 does not (faceswap defect #12)",
}


def _rule_for(encoder: str) -> RuleFactory | None:
    for prefix in sorted(RULES, key=len, reverse=True):
        if encoder.startswith(prefix) and not any(encoder.startswith(p) for p in _WHY_NOT):
            return RULES[prefix]
    return None


def map_backbone(encoder: str, submodel: str, layers: list[KerasLayer], backbone: nn.Module,
                 state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """State-dict entries (keys under `prefix`) for `backbone` from its Keras application."""
    application = layers[0].application or "?"
    factory = _rule_for(encoder)
    if factory is None:
        reason = next((why for p, why in _WHY_NOT.items() if encoder.startswith(p)),
                      "no mapping from its Keras application is implemented yet")
        raise ModelDirError(f"sub-model '{submodel}': encoder '{encoder}' (Keras application "
                            f"'{application}') cannot be imported: {reason}")
    mapping = BackboneMapping(submodel, application, state, prefix)
    return apply_rules(mapping, layers, backbone, factory(layers))
