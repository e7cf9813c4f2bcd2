"""Map faceswap Keras weights onto a Phaze-A model's state_dict (layouts converted, shapes checked).

Phaze's feature maps are NCHW, but every Flatten/Reshape in Phaze already works in faceswap's
(h, w, c) order (model/bottleneck.py, model/fc.py), so a Dense kernel needs only a transpose.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from phaze.errors import ModelDirError
from phaze.importers.faceswap_keras import KERAS_KINDS, KerasLayer
from phaze.layers.norm import ChannelLayerNorm, ChannelRMSNorm, InstanceNormAll


def module_kind(module: nn.Module) -> str | None:
    """The Keras kind a Phaze module with its own weights corresponds to."""
    if isinstance(module, nn.ConvTranspose2d):
        return "conv_transpose"
    if isinstance(module, nn.Conv2d):
        return "conv"
    if isinstance(module, nn.Linear):
        return "dense"
    if isinstance(module, nn.BatchNorm2d):
        return "batch_norm"
    if isinstance(module, nn.GroupNorm):
        return "group_norm"
    if isinstance(module, InstanceNormAll):
        return "instance_norm"
    if isinstance(module, ChannelLayerNorm):
        return "layer_norm"
    if isinstance(module, ChannelRMSNorm):
        return "rms_norm"
    return None


def _targets(module: nn.Module, kind: str) -> list[tuple[str, callable]]:
    """(state_dict suffix, Keras array → torch layout) for each Keras variable, in Keras order."""
    def conv(a):   # HWIO → OIHW; Conv2DTranspose (kh, kw, out, in) → (in, out, kh, kw)
        return a.transpose(3, 2, 0, 1)

    def same(a):
        return a

    def flat(a):   # group norm γ, β are stored (1, 1, 1, C)
        return a.reshape(-1)

    if kind in ("conv", "conv_transpose"):
        names = [("weight", conv)] + ([("bias", same)] if module.bias is not None else [])
    elif kind == "dense":
        names = [("weight", lambda a: a.T)] + ([("bias", same)] if module.bias is not None
                                                 else [])
    elif kind == "batch_norm":
        names = [("weight", same), ("bias", same), ("running_mean", same),
                 ("running_var", same)]
    elif kind == "group_norm":
        names = [("weight", flat), ("bias", flat)]
    elif kind in ("instance_norm",):
        names = [("gamma", same), ("beta", same)]
    elif kind == "layer_norm":
        names = [("weight", same), ("bias", same)]
    else:   # rms_norm
        names = [("scale", same)]
    return names


def call_order(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """Weighted leaf modules in the order one forward pass of both sides first calls them."""
    named = {module: name for name, module in model.named_modules()
             if module_kind(module) is not None}
    order: list[tuple[str, nn.Module]] = []
    seen: set[int] = set()

    def hook(module, _inputs, _output):
        if id(module) not in seen:
            seen.add(id(module))
            order.append((named[module], module))

    handles = [m.register_forward_hook(hook) for m in named]
    try:
        size = model.input_size
        with torch.no_grad():
            probe = torch.zeros(1, 3, size, size, device=next(model.parameters()).device)
            model.eval()(probe, probe)
    finally:
        for handle in handles:
            handle.remove()
    return order


def _by_kind(items, kind_of) -> dict[str, list]:
    groups: dict[str, list] = {}
    for item in items:
        groups.setdefault(kind_of(item), []).append(item)
    return groups


def map_weights(model: nn.Module, keras: dict[str, list[KerasLayer]],
                order: list[tuple[str, nn.Module]] | None = None,
                rgb_outputs: bool = True) -> dict[str, torch.Tensor]:
    """A full state_dict for `model` from the Keras layers, or a ModelDirError naming the misfit.

    `order` is `call_order(model)`; pass one computed on a meta-device copy to skip the probe.
    `rgb_outputs`: faceswap trains a BGR encoder (fs_original) on BGR targets, so its face
    outputs are BGR; Phaze's outputs are RGB, so the face output convolutions' three output
    channels are reversed (False keeps faceswap's channel order, for comparing with it).
    Nothing is loaded into `model`: the caller loads the returned dict once it is complete.
    """
    order = order if order is not None else call_order(model)
    state = model.state_dict()
    keras, mapped = _split_backbone(model, keras, state)
    per_submodel: dict[str, list[tuple[str, nn.Module]]] = {}
    for name, module in order:
        if mapped and name.startswith(BACKBONE_PREFIX):
            continue    # mapped by name from its Keras application
        per_submodel.setdefault(name.split(".")[0], []).append((name, module))
    missing = sorted(set(keras) - set(per_submodel))
    if missing:
        raise ModelDirError(f"sub-model '{missing[0]}' of the faceswap model has weights but "
                            "the Phaze design built from its options has no such sub-model")
    for submodel, modules in per_submodel.items():
        layers = keras.get(submodel, [])
        unknown = [layer for layer in layers if layer.class_name not in KERAS_KINDS]
        if unknown:
            layer = unknown[0]
            raise ModelDirError(f"sub-model '{submodel}': layer '{layer.name}' is a "
                                f"{layer.class_name}, which Phaze cannot import")
        keras_groups = _by_kind(layers, lambda layer: KERAS_KINDS[layer.class_name])
        phaze_groups = _by_kind(modules, lambda item: module_kind(item[1]))
        for kind in sorted(set(keras_groups) | set(phaze_groups)):
            ks, ps = keras_groups.get(kind, []), phaze_groups.get(kind, [])
            if len(ks) != len(ps):
                raise ModelDirError(
                    f"sub-model '{submodel}': the faceswap model has {len(ks)} {kind} layers, "
                    f"the Phaze design built from its options has {len(ps)}")
            for layer, (name, module) in zip(ks, ps):
                mapped.update(_map_layer(submodel, layer, name, module, kind, state))
    _fill_counters(state, mapped)
    if rgb_outputs and getattr(getattr(model, "encoder", None), "mapping", None) is not None \
            and model.encoder.mapping.bgr:
        _reverse_face_channels(mapped)
    left = sorted(set(state) - set(mapped))
    if left:
        raise ModelDirError(f"no faceswap weight for Phaze tensor '{left[0]}' "
                            f"({len(left)} unmapped)")
    return mapped


BACKBONE_PREFIX = "encoder.backbone."


def _split_backbone(model: nn.Module, keras: dict[str, list[KerasLayer]],
                    state: dict[str, torch.Tensor]
                    ) -> tuple[dict[str, list[KerasLayer]], dict[str, torch.Tensor]]:
    """Map the encoder's nested Keras application (if any) onto `encoder.backbone` by name.

    Returns the Keras layers left for the kind-and-order matching, and the backbone's tensors.
    """
    from phaze.importers.keras_apps import map_backbone

    encoder_layers = keras.get("encoder", [])
    application = [layer for layer in encoder_layers if layer.application]
    if not application:
        return keras, {}
    design = getattr(model, "design", None)
    name = design.encoder_spec.name if design is not None else "?"
    mapped = map_backbone(name, "encoder", application, model.encoder.backbone, state,
                          BACKBONE_PREFIX)
    rest = dict(keras)
    rest["encoder"] = [layer for layer in encoder_layers if not layer.application]
    return rest, mapped


def _map_layer(submodel: str, layer: KerasLayer, name: str, module: nn.Module, kind: str,
               state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    targets = _targets(module, kind)
    if len(targets) != len(layer.weights):
        raise ModelDirError(f"sub-model '{submodel}': layer '{layer.name}' holds "
                            f"{len(layer.weights)} tensors, Phaze's '{name}' expects "
                            f"{len(targets)}")
    out = {}
    for (suffix, convert), array in zip(targets, layer.weights):
        key = f"{name}.{suffix}"
        expected = tuple(state[key].shape)
        converted = np.ascontiguousarray(convert(array)) if array.ndim == _ndim(suffix, kind,
                                                                               expected) \
            else array
        if tuple(converted.shape) != expected:
            raise ModelDirError(
                f"sub-model '{submodel}': layer '{layer.name}' has shape {tuple(array.shape)} "
                f"(Keras layout), Phaze's '{key}' needs {expected} in PyTorch layout")
        out[key] = torch.from_numpy(converted).to(state[key].dtype)
    return out


def _ndim(suffix: str, kind: str, expected: tuple[int, ...]) -> int:
    """The Keras rank a tensor must have before its layout conversion applies."""
    if kind == "group_norm":
        return 4
    return len(expected)


def _reverse_face_channels(mapped: dict[str, torch.Tensor]) -> None:
    """BGR → RGB face outputs: flip the output channels of every decoder's face conv."""
    for key in list(mapped):
        parts = key.split(".")
        if len(parts) == 3 and parts[0].startswith("decoder_") and parts[1] == "face_out":
            mapped[key] = mapped[key].flip(0).contiguous()


def _fill_counters(state: dict[str, torch.Tensor], mapped: dict[str, torch.Tensor]) -> None:
    """Batch norm's step counter has no Keras counterpart; keep Phaze's (unused at momentum)."""
    for key, value in state.items():
        if key.endswith("num_batches_tracked") and key not in mapped:
            mapped[key] = value.clone()
