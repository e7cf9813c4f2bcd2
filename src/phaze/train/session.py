"""Open the model a training run works on: create it, or resume it with its saved options.

Creating writes the options marker and builds fresh weights (optionally copying sub-models from
another model). Resuming rebuilds the saved design; a requested option that would change the
network is an error, the updatable ones are applied, logged and saved.
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from phaze.storage.checkpoint import (Checkpoint, is_model_dir, load_checkpoint, read_options,
                              write_marker)
from phaze.config.options import UPDATABLE_OPTIONS, PhazeAOptions
from phaze.config.parse import coerce_option
from phaze.errors import ConfigError, ModelDirError
from phaze.model.freeze import apply_freeze, find_submodel
from phaze.model.phaze_a import PhazeA, build_model
from phaze.train.transfer import TransferReport, load_layers_from

log = logging.getLogger(__name__)


@dataclass
class ModelSession:
    model: PhazeA
    options: PhazeAOptions
    checkpoint: Checkpoint | None          # None: nothing trained yet
    frozen: tuple[str, ...]                # sub-model names frozen in this run
    transfer: TransferReport | None = None

    @property
    def is_new(self) -> bool:
        return self.checkpoint is None


def resolve_run_options(model_dir: str | Path, requested: PhazeAOptions | None,
                        load_layers: Sequence[str] | None = None,
                        freeze_layers: Sequence[str] | bool = ()) -> PhazeAOptions:
    """The options this run trains with; nothing is written yet.

    A new model takes `requested` (or the defaults); an existing one its saved options plus
    the requested updatable ones. Names given for this run replace the options' name lists.
    """
    model_dir = Path(model_dir)
    if is_model_dir(model_dir):
        options = _resume_options(read_options(model_dir), requested)
    else:
        options = requested or _default_options()
    return _with_name_lists(options, load_layers, freeze_layers)


def open_session(model_dir: str | Path, options: PhazeAOptions, device: torch.device,
                 load_weights: str | Path | None = None,
                 freeze: bool = False, write: bool = True) -> ModelSession:
    """The model for this run on `device`: built, weights loaded, marker written, frozen.

    `options` come from `resolve_run_options`. With `freeze` the options' `freeze_layers` are
    frozen; without it everything trains (a run without the flag unfreezes).
    `write=False` (every training process but rank 0) leaves the marker to the writer.
    """
    model_dir = Path(model_dir)
    saved = read_options(model_dir) if is_model_dir(model_dir) else None
    checkpoint = load_checkpoint(model_dir) if saved else None
    model = _build(options, device, checkpoint)
    if write and options != saved:
        write_marker(model_dir, options)  # a new model, or updated options that are kept
    transfer = _transfer(model, checkpoint, load_weights, options.load_layers)
    frozen = _freeze(model, options.freeze_layers if freeze else ())
    return ModelSession(model, options, checkpoint, frozen, transfer)


def _default_options() -> PhazeAOptions:
    log.info("no options given for the new model: using the Phaze-A defaults")
    return PhazeAOptions()


# --- options on resume ------------------------------------------------------------------------
def _resume_options(saved: PhazeAOptions, requested: PhazeAOptions | None) -> PhazeAOptions:
    """The saved options with the requested updatable ones; a structural change is an error."""
    if requested is None:
        return saved
    changed = {f.name: (getattr(saved, f.name), getattr(requested, f.name))
               for f in dataclasses.fields(PhazeAOptions)
               if getattr(saved, f.name) != getattr(requested, f.name)}
    conflicts = [name for name in changed if name not in UPDATABLE_OPTIONS]
    if conflicts:
        details = "; ".join(f"'{name}' = {changed[name][1]!r} (saved: {changed[name][0]!r})"
                            for name in conflicts)
        raise ConfigError(
            f"the model already exists and was built with different options: {details}. "
            "Options that shape the network are fixed when a model is created; only "
            f"{', '.join(sorted(UPDATABLE_OPTIONS))} may change. Drop the conflicting "
            "option(s) or use a new --model-dir")
    for name in changed:
        log.info("option '%s' changed for this model: %r → %r", name, *changed[name])
    return saved.replace(**{name: new for name, (_, new) in changed.items()})


def _with_name_lists(options: PhazeAOptions, load_layers: Sequence[str] | None,
                     freeze_layers: Sequence[str] | bool) -> PhazeAOptions:
    """Names given for this run replace the options' lists (both are updatable options)."""
    changes = {}
    if load_layers is not None:
        changes["load_layers"] = coerce_option("load_layers", list(load_layers))
    if freeze_layers and freeze_layers is not True:
        changes["freeze_layers"] = coerce_option("freeze_layers", list(freeze_layers))
    return options.replace(**changes) if changes else options


# --- weights --------------------------------------------------------------------------------
def _build(options: PhazeAOptions, device: torch.device,
           checkpoint: Checkpoint | None) -> PhazeA:
    if checkpoint is None:
        # A new model: pretrained backbone weights when `enc_load_weights` asks for them.
        return build_model(options, device, pretrained=True)
    model = build_model(options, device)  # every tensor is replaced by the saved ones
    missing, unexpected = model.load_state_dict(checkpoint.weights, strict=False)
    if missing or unexpected:
        raise ModelDirError(
            f"weights in '{checkpoint.path}' do not fit the saved options (missing "
            f"{len(missing)} tensors, e.g. {missing[:1]}; unexpected {len(unexpected)}, "
            f"e.g. {unexpected[:1]})")
    set_dropout(model, options)
    log.info("resuming at iteration %d from %s", checkpoint.state.iteration, checkpoint.path)
    return model


def set_dropout(model: nn.Module, options: PhazeAOptions) -> None:
    """Give every Dropout in an `fc_*` sub-model its configured rate."""
    for name, submodel in model.submodels().items():
        if not name.startswith("fc_"):
            continue
        rate = options.fc_gblock_dropout if "gblock" in name else options.fc_dropout
        for module in submodel.modules():
            if isinstance(module, nn.Dropout):
                module.p = rate


def _transfer(model: PhazeA, checkpoint: Checkpoint | None, load_weights: str | Path | None,
              names: Sequence[str]) -> TransferReport | None:
    if load_weights is None:
        return None
    if checkpoint is not None:
        log.warning("--load-weights is ignored: this model already has weights (weights are "
                    "loaded only when a model is created)")
        return None
    return load_layers_from(model, load_weights, names)


def _freeze(model: PhazeA, names: Sequence[str]) -> tuple[str, ...]:
    missing = apply_freeze(model, tuple(names))
    if missing:
        log.warning("freeze: not in this model, ignored: %s", ", ".join(missing))
    frozen = tuple(name for name in names
                   if name not in missing and find_submodel(model, name) is not None)
    if frozen:
        log.info("freeze: %s frozen for this run", ", ".join(frozen))
    return frozen
