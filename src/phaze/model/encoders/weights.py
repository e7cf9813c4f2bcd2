"""Load pretrained backbone weights from a local file (never downloaded): `enc_load_weights`."""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

import torch
from torch import nn

from phaze.errors import WeightsError
from phaze.model.encoders.registry import EncoderSpec
from phaze.user_cache import user_cache_dir

logger = logging.getLogger(__name__)

WEIGHTS_DIR_ENV = "PHAZE_WEIGHTS_DIR"
WEIGHTS_SUFFIXES = (".safetensors", ".pt", ".pth", ".bin")
_CONTAINER_KEYS = ("state_dict", "model", "module")   # checkpoints that wrap the state dict


@dataclass
class WeightsReport:
    """What a load did, tensor by tensor (faceswap only counted, and wrongly: faceswap defect 15, docs/faceswap-differences.md)."""

    path: Path
    loaded: list[str] = field(default_factory=list)
    shape_mismatch: list[str] = field(default_factory=list)   # "key: file (..) vs model (..)"
    missing: list[str] = field(default_factory=list)          # in the backbone, not in the file
    unused: list[str] = field(default_factory=list)           # in the file, not in the backbone


def weights_dir() -> Path:
    """$PHAZE_WEIGHTS_DIR, else $XDG_CACHE_HOME/phaze/weights, else ~/.cache/phaze/weights."""
    if os.environ.get(WEIGHTS_DIR_ENV):
        return Path(os.environ[WEIGHTS_DIR_ENV]).expanduser()
    return user_cache_dir("weights")


def weights_file_stem(enc_architecture: str) -> str:
    """File name without suffix: the encoder name, with ':' → '-' ('timm:x' → 'timm-x')."""
    return enc_architecture.replace(":", "-").replace("/", "-")


def find_weights_file(spec: EncoderSpec, weights_path: str | Path | None = None) -> Path:
    """The explicit file if given, else `<weights_dir>/<encoder>.<suffix>`; WeightsError if none."""
    if weights_path is not None:
        path = Path(weights_path).expanduser()
        if path.is_file():
            return path
        raise WeightsError(f"weights file '{path}' for encoder '{spec.name}' does not exist")
    folder, stem = weights_dir(), weights_file_stem(spec.name)
    for suffix in WEIGHTS_SUFFIXES:
        if (folder / f"{stem}{suffix}").is_file():
            return folder / f"{stem}{suffix}"
    raise WeightsError(_missing_message(spec, folder / f"{stem}.safetensors"))


def _missing_message(spec: EncoderSpec, expected: Path) -> str:
    source = f" ({spec.weights_hint})" if spec.weights_hint else ""
    return (f"enc_load_weights = true, but no pretrained weights for encoder '{spec.name}' were "
            f"found. Put its weights file{source} at '{expected}' (.safetensors, or a PyTorch "
            f"state dict as .pt/.pth/.bin), or set {WEIGHTS_DIR_ENV} to the folder holding "
            f"'{expected.name}', or pass the file explicitly; or set enc_load_weights = false "
            "to train the backbone from scratch. Phaze never downloads weights; see "
            "docs/backbones.md")


def read_state_dict(path: str | Path) -> dict[str, torch.Tensor]:
    """Tensors of a .safetensors file or a torch state dict (loaded with weights_only=True)."""
    path = Path(path)
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file
            state = load_file(str(path))
        else:
            state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:   # any reader failure means "not a usable weights file"
        raise WeightsError(f"'{path}' is not a readable weights file: {error}") from None
    while isinstance(state, dict) and len(state) == 1 and next(iter(state)) in _CONTAINER_KEYS:
        state = next(iter(state.values()))
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor)
                                              for v in state.values()):
        raise WeightsError(f"'{path}' does not hold a state dict (name → tensor)")
    return state


def load_backbone_weights(model: nn.Module, weights_path: str | Path | None = None
                          ) -> WeightsReport:
    """Load the pretrained file for `model`'s encoder into `model.encoder.backbone`."""
    spec: EncoderSpec = model.design.encoder_spec
    path = find_weights_file(spec, weights_path)
    report = load_state_into(model.encoder.backbone, read_state_dict(path), path)
    if not report.loaded:
        raise WeightsError(f"'{path}' holds no weights for encoder '{spec.name}': none of its "
                           f"{len(report.unused)} tensors match the backbone (first: "
                           f"{', '.join(report.unused[:3])})")
    _log_report(spec.name, report)
    return report


def load_state_into(backbone: nn.Module, state: dict[str, torch.Tensor], path: Path
                    ) -> WeightsReport:
    """Copy every tensor whose name and shape fit; skip (and report) the rest."""
    own = backbone.state_dict()
    matched = align_keys(state, own)
    report = WeightsReport(path)
    usable = {}
    for key, tensor in matched.items():
        if tuple(tensor.shape) == tuple(own[key].shape):
            usable[key] = tensor
        else:   # e.g. a CLIP positional embedding made for another input size (faceswap defect 16, docs/faceswap-differences.md)
            report.shape_mismatch.append(f"{key}: file {tuple(tensor.shape)} vs model "
                                         f"{tuple(own[key].shape)}")
    if not any(t.is_meta for t in own.values()):   # a meta model (summary) has no storage
        backbone.load_state_dict(usable, strict=False)
    report.loaded = sorted(usable)
    optional = getattr(backbone, "optional_weight_keys", set())
    report.missing = sorted(k for k in own if k not in matched and k not in optional
                            and not k.endswith("num_batches_tracked"))
    used_ids = {id(t) for t in matched.values()}
    report.unused = sorted(k for k, t in state.items() if id(t) not in used_ids)
    hook = getattr(backbone, "weights_loaded", None)
    if hook is not None:
        hook(set(usable))
    return report


def align_keys(state: dict[str, torch.Tensor], own: dict[str, torch.Tensor]
               ) -> dict[str, torch.Tensor]:
    """Map file keys onto the backbone's, dropping or adding one leading prefix if that fits.

    Covers files of the bare timm model (backbone keys start 'net.'), whole-CLIP files
    ('visual.'), torchvision VGG ('features.') and DataParallel checkpoints ('module.').
    """
    strips = [""] + sorted({k.split(".", 1)[0] + "." for k in state if "." in k})
    adds = [""] + sorted({k.split(".", 1)[0] + "." for k in own if "." in k})
    best: dict[str, torch.Tensor] = {}
    for strip in strips:
        for add in adds:
            mapped = {add + k[len(strip):]: v for k, v in state.items() if k.startswith(strip)}
            hits = {k: v for k, v in mapped.items() if k in own}
            if len(hits) > len(best):
                best = hits
    return best


def _log_report(name: str, report: WeightsReport) -> None:
    logger.info("encoder '%s': loaded %d tensors from '%s'", name, len(report.loaded),
                report.path)
    for line in report.shape_mismatch:
        logger.warning("encoder '%s': skipped %s (shape differs; left as initialised)",
                       name, line)
    if report.missing:
        more = " …" if len(report.missing) > 10 else ""
        logger.warning("encoder '%s': %d backbone tensors are not in '%s' and keep their "
                       "initial values: %s%s", name, len(report.missing), report.path.name,
                       ", ".join(report.missing[:10]), more)
    if report.unused:
        logger.info("encoder '%s': %d tensors of the file are not used (e.g. a classifier): %s",
                    name, len(report.unused), ", ".join(report.unused[:5]))
