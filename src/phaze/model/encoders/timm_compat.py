"""Import timm on any torch, including CPU-only torch with PyPI's CUDA build of torchvision."""
from __future__ import annotations

import importlib
import sys
from types import ModuleType

import torch

from phaze.errors import ConfigError

INSTALL_HINT = ("install it with `scripts/install_backbones.sh` (pip install --no-deps timm "
                "torchvision==<the release paired with your torch>); see docs/backbones.md")

# torchvision registers "fake" kernels for these two C++ operators at import time without first
# checking that its C++ library loaded. PyPI's torchvision is a CUDA build whose library cannot
# load next to a CPU-only torch, so the import dies with "operator torchvision::nms does not
# exist". Declaring the schemas lets the pure-Python parts (all timm needs) import; calling the
# operators still fails with torchvision's own "Couldn't load custom C++ ops" message.
_MISSING_OPERATOR_SCHEMAS = (
    "nms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
    "qnms(Tensor dets, Tensor scores, float iou_threshold) -> Tensor",
)
_operator_library: torch.library.Library | None = None   # kept alive: dropping it unregisters


def import_timm() -> ModuleType:
    """Return the timm module, or raise a ConfigError saying how to install it."""
    try:
        _import_torchvision()
        return importlib.import_module("timm")
    except ImportError as error:
        raise ConfigError(f"this encoder needs timm, which cannot be imported ({error}): "
                          f"{INSTALL_HINT}") from None


def timm_available() -> bool:
    """True when timm (and a usable torchvision) can be imported."""
    try:
        import_timm()
    except ConfigError:
        return False
    return True


def _import_torchvision() -> None:
    try:
        importlib.import_module("torchvision")
    except RuntimeError as error:
        if "torchvision::" not in str(error):
            raise
        _forget_partial_import("torchvision")
        _declare_missing_operators()
        importlib.import_module("torchvision")


def _forget_partial_import(package: str) -> None:
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        del sys.modules[name]


def _declare_missing_operators() -> None:
    global _operator_library
    if _operator_library is not None:
        return
    library = torch.library.Library("torchvision", "FRAGMENT")
    for schema in _MISSING_OPERATOR_SCHEMAS:
        library.define(schema)
    _operator_library = library
