"""Shared pieces of the Keras-application mappers: layout converters and a checked collector."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from torch import nn

from phaze.errors import ModelDirError
from phaze.importers.faceswap_keras import KerasLayer


def conv_kernel(array: np.ndarray) -> np.ndarray:
    """Conv2D HWIO → OIHW."""
    return array.transpose(3, 2, 0, 1)


def depthwise_kernel(array: np.ndarray) -> np.ndarray:
    """DepthwiseConv2D (kh, kw, in, m) → (in·m, 1, kh, kw); output channel i·m + j, as Keras."""
    kh, kw, channels, multiplier = array.shape
    return array.transpose(2, 3, 0, 1).reshape(channels * multiplier, 1, kh, kw)


def dense_kernel(array: np.ndarray) -> np.ndarray:
    return array.T


@dataclass
class BackboneMapping:
    """Collects Keras layer → backbone module assignments, checking every shape on the way.

    `prefix` is where the backbone sits in the Phaze model's state_dict ('encoder.backbone.').
    Errors name the sub-model, the Keras layer, its class and the Keras application.
    """

    submodel: str
    application: str
    state: dict[str, torch.Tensor]
    prefix: str
    mapped: dict[str, torch.Tensor] = field(default_factory=dict)

    def fail(self, layer: KerasLayer, why: str) -> ModelDirError:
        return ModelDirError(f"sub-model '{self.submodel}': layer '{layer.name}' is a "
                             f"{layer.class_name} of Keras application '{self.application}', "
                             f"{why}")

    def put(self, layer: KerasLayer, key: str, array: np.ndarray) -> None:
        full = self.prefix + key
        if full not in self.state:
            raise self.fail(layer, f"which Phaze cannot import (no backbone tensor '{key}')")
        expected = tuple(self.state[full].shape)
        if tuple(array.shape) != expected:
            raise self.fail(layer, f"shape {tuple(array.shape)} does not fit Phaze's '{key}' "
                                   f"{expected}")
        self.mapped[full] = torch.from_numpy(np.ascontiguousarray(array)).to(
            self.state[full].dtype)

    def conv(self, layer: KerasLayer, module: str) -> None:
        """Conv2D or DepthwiseConv2D (+ bias) onto an nn.Conv2d at `module`."""
        convert = depthwise_kernel if layer.class_name == "DepthwiseConv2D" else conv_kernel
        self.put(layer, f"{module}.weight", convert(layer.weights[0]))
        if len(layer.weights) > 1:
            self.put(layer, f"{module}.bias", layer.weights[1])

    def dense(self, layer: KerasLayer, module: str) -> None:
        self.put(layer, f"{module}.weight", dense_kernel(layer.weights[0]))
        if len(layer.weights) > 1:
            self.put(layer, f"{module}.bias", layer.weights[1])

    def batch_norm(self, layer: KerasLayer, module: nn.Module, name: str) -> None:
        """γ (unless scale=False), β (unless center=False), moving mean and variance."""
        keras_eps = float(layer.config.get("epsilon", 1e-3))
        if abs(getattr(module, "eps", keras_eps) - keras_eps) > 1e-12:
            raise self.fail(layer, f"its epsilon {keras_eps} differs from Phaze's "
                                   f"'{name}' ({module.eps})")
        arrays = list(layer.weights)
        channels = arrays[-1].shape[0]
        gamma = arrays.pop(0) if layer.config.get("scale", True) else np.ones(channels,
                                                                             np.float32)
        beta = arrays.pop(0) if layer.config.get("center", True) else np.zeros(channels,
                                                                              np.float32)
        if len(arrays) != 2:
            raise self.fail(layer, "its tensors are not γ, β, moving mean, moving variance")
        for suffix, array in (("weight", gamma), ("bias", beta), ("running_mean", arrays[0]),
                              ("running_var", arrays[1])):
            self.put(layer, f"{name}.{suffix}", array)

    def finish(self) -> dict[str, torch.Tensor]:
        """The mapped tensors, once every backbone tensor has one (counters kept as built)."""
        for key, value in self.state.items():
            if key.startswith(self.prefix) and key not in self.mapped:
                if key.endswith("num_batches_tracked"):
                    self.mapped[key] = value.clone()
                else:
                    raise ModelDirError(
                        f"sub-model '{self.submodel}': Keras application '{self.application}' "
                        f"has no weight for Phaze's backbone tensor '{key[len(self.prefix):]}'")
        return self.mapped


def conv_or_norm(mapping: BackboneMapping, layer: KerasLayer, backbone: nn.Module,
                 module: str | None) -> bool:
    """Map a conv (plain or depthwise) or batch norm onto `module`; False if it is neither."""
    if module is None:
        return False
    try:
        target = backbone.get_submodule(module)
    except AttributeError:
        return False
    if layer.class_name in ("Conv2D", "DepthwiseConv2D"):
        mapping.conv(layer, module)
    elif layer.class_name == "BatchNormalization":
        mapping.batch_norm(layer, target, module)
    else:
        return False
    return True


LayerRule = Callable[[BackboneMapping, KerasLayer, nn.Module], bool]


def apply_rules(mapping: BackboneMapping, layers: list[KerasLayer], backbone: nn.Module,
                rule: LayerRule) -> dict[str, torch.Tensor]:
    """Run `rule` on every Keras layer; a layer the rule does not take is refused by name."""
    for layer in layers:
        if not rule(mapping, layer, backbone):
            raise mapping.fail(layer, "which Phaze cannot import")
    return mapping.finish()
