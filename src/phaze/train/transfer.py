"""Copy named sub-models' weights from another model folder into a new model.

Tensors are matched by their structural path inside the sub-model (`backbone.0.conv.weight`),
not by auto-generated layer names, and every shape is compared. A sub-model is copied whole or
not at all: one missing or mis-shaped tensor leaves all of it untouched ("nothing half-loaded").
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

import torch
from torch import nn

from phaze.storage.checkpoint import load_checkpoint, read_options
from phaze.errors import ModelDirError, WeightsError

log = logging.getLogger(__name__)


@dataclass
class TensorMismatch:
    """One tensor that stopped its sub-model from loading; a shape of None means 'absent'."""

    path: str
    target_shape: tuple[int, ...] | None
    source_shape: tuple[int, ...] | None

    def __str__(self) -> str:
        if self.source_shape is None:
            return f"{self.path}: missing in the source"
        if self.target_shape is None:
            return f"{self.path}: only in the source {tuple(self.source_shape)}"
        return (f"{self.path}: shape {tuple(self.target_shape)} here, "
                f"{tuple(self.source_shape)} in the source")


@dataclass
class SubmodelTransfer:
    name: str
    loaded: list[str] = field(default_factory=list)        # tensor paths copied
    mismatches: list[TensorMismatch] = field(default_factory=list)
    skipped_reason: str | None = None                     # whole sub-model not found


@dataclass
class TransferReport:
    source: Path
    submodels: list[SubmodelTransfer] = field(default_factory=list)

    @property
    def loaded_names(self) -> list[str]:
        return [s.name for s in self.submodels if s.loaded]

    @property
    def tensors_loaded(self) -> int:
        return sum(len(s.loaded) for s in self.submodels)


def load_layers_from(model: nn.Module, source_dir: str | Path,
                     names: Iterable[str]) -> TransferReport:
    """Copy sub-models `names` from the model in `source_dir` into `model`; report per tensor.

    Raises WeightsError when nothing at all could be loaded.
    """
    source_dir = Path(source_dir)
    read_options(source_dir)  # a clear error when it is not a Phaze model folder
    checkpoint = load_checkpoint(source_dir, with_optimizer=False)
    if checkpoint is None:
        raise ModelDirError(f"'{source_dir}' holds no trained weights to load (no checkpoint)")
    report = TransferReport(source_dir)
    own = model.submodels()
    for name in dict.fromkeys(names):
        result = _transfer_one(name, own.get(name), checkpoint.weights)
        _log_result(result)
        report.submodels.append(result)
    if not report.tensors_loaded:
        raise WeightsError(f"nothing could be loaded from '{source_dir}' for sub-models "
                           f"{', '.join(dict.fromkeys(names))}: see the warnings above")
    return report


def _transfer_one(name: str, submodel: nn.Module | None,
                  source_weights: dict[str, torch.Tensor]) -> SubmodelTransfer:
    result = SubmodelTransfer(name)
    prefix = name + "."
    source = {key[len(prefix):]: value for key, value in source_weights.items()
              if key.startswith(prefix)}
    if submodel is None:
        result.skipped_reason = "not in this model"
        return result
    if not source:
        result.skipped_reason = "not in the source model"
        return result
    target = submodel.state_dict()
    result.mismatches = _compare(target, source)
    if result.mismatches:
        return result
    with torch.no_grad():
        for path, tensor in target.items():
            tensor.copy_(source[path])
    result.loaded = list(target)
    return result


def _compare(target: dict[str, torch.Tensor],
             source: dict[str, torch.Tensor]) -> list[TensorMismatch]:
    mismatches = []
    for path, tensor in target.items():
        other = source.get(path)
        if other is None or other.shape != tensor.shape:
            mismatches.append(TensorMismatch(
                path, tuple(tensor.shape), None if other is None else tuple(other.shape)))
    # Extra source tensors mean the structures differ even if every target tensor fits.
    mismatches += [TensorMismatch(path, None, tuple(source[path].shape))
                   for path in source if path not in target]
    return mismatches


def _log_result(result: SubmodelTransfer) -> None:
    if result.skipped_reason:
        log.warning("load weights: skipping '%s': %s", result.name, result.skipped_reason)
    elif result.mismatches:
        log.warning("load weights: '%s' NOT loaded, %d tensor(s) do not fit (the options that "
                    "shape it probably differ):\n  %s", result.name, len(result.mismatches),
                    "\n  ".join(str(m) for m in result.mismatches))
    else:
        log.info("load weights: '%s' loaded (%d tensors)", result.name, len(result.loaded))
        for path in result.loaded:
            log.debug("load weights: %s.%s copied", result.name, path)
