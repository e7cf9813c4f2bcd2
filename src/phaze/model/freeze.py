"""Freeze named sub-models (`freeze_layers`) and keep frozen norms' statistics fixed."""
from __future__ import annotations

from torch import nn

BACKBONE_ALIAS = "keras_encoder"   # faceswap's name for the backbone nested in `encoder`


def apply_freeze(model: nn.Module, names: tuple[str, ...] | list[str]) -> list[str]:
    """Make everything trainable, then freeze each named sub-model; return names not found.

    `keras_encoder` is `model.encoder.backbone` (for every architecture, unlike faceswap where
    it silently matched nothing for most backbones) and is dropped without complaint for
    fs_original, which has no pretrained backbone. The caller warns about the returned
    names once, e.g. `fc_a` when split_fc is off.
    """
    model.requires_grad_(True)
    not_found = []
    for name in dict.fromkeys(names):
        if name == BACKBONE_ALIAS and _encoder_name(model) == "fs_original":
            continue
        submodel = find_submodel(model, name)
        if submodel is None:
            not_found.append(name)
        else:
            submodel.requires_grad_(False)
    return not_found


def find_submodel(model: nn.Module, name: str) -> nn.Module | None:
    """The sub-model called `name`, searched at any depth (faceswap's recursive lookup)."""
    if name == BACKBONE_ALIAS:
        encoder = getattr(model, "encoder", None)
        return getattr(encoder, "backbone", None)
    children = dict(model.named_children())
    if name in children:
        return children[name]
    for path, module in model.named_modules():
        if path.rsplit(".", 1)[-1] == name:
            return module
    return None


def _encoder_name(model: nn.Module) -> str | None:
    options = getattr(model, "options", None)
    return getattr(options, "enc_architecture", None)


def set_frozen_norms_eval(model: nn.Module) -> None:
    """Put norm layers with running statistics inside frozen parts into eval mode.

    Call after `model.train()`. A frozen backbone then normalises with its stored statistics
    and never updates them, like Keras layers with trainable=False. A norm layer counts as
    frozen when all its parameters are; one without parameters follows its nearest ancestor
    that has some.
    """
    _walk(model, inherited_frozen=False)


def _walk(module: nn.Module, inherited_frozen: bool) -> None:
    params = list(module.parameters())
    frozen = not any(p.requires_grad for p in params) if params else inherited_frozen
    if frozen and isinstance(module, nn.modules.batchnorm._NormBase):
        module.eval()   # BatchNorm*/SyncBatchNorm/InstanceNorm with tracked statistics
    for child in module.children():
        _walk(child, frozen)
