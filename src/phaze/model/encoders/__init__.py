"""Encoders by name: the built-in fs_original plus the ImageNet/CLIP backbones."""
from __future__ import annotations

from phaze.model.encoders.backbones import register_backbones
from phaze.model.encoders.fs_original import FS_ORIGINAL
from phaze.model.encoders.registry import EncoderRegistry, EncoderSpec


def _build_registry() -> EncoderRegistry:
    registry = EncoderRegistry()
    registry.add(FS_ORIGINAL.name, FS_ORIGINAL)
    register_backbones(registry)   # imports no library: timm is loaded when one is built
    return registry


ENCODERS = _build_registry()

__all__ = ["ENCODERS", "EncoderRegistry", "EncoderSpec"]
