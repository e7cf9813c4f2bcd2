"""Open the model a training run works on: create it, or resume it with its saved options.

Creating writes the model folder (options and framing) and builds fresh weights (optionally
copying sub-models from another model). Resuming rebuilds the saved design; a requested option
that would change the network is an error, the updatable ones are applied, logged and saved.
The folder's options are read once per run (`ModelFolder.read_options` in `saved_options`).
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

import torch
from torch import nn

from phaze.config.options import UPDATABLE_OPTIONS, PhazeAOptions
from phaze.config.parse import coerce_option
from phaze.errors import ConfigError
from phaze.faces.framing import Framing
from phaze.model.design import Design
from phaze.model.freeze import apply_freeze, find_submodel
from phaze.model.phaze_a import PhazeA, build_model
from phaze.storage.checkpoint import (Checkpoint, build_from_checkpoint, create_model_folder,
                                      load_checkpoint)
from phaze.storage.folder import ModelFolder
from phaze.train.transfer import TransferReport, load_layers_from

logger = logging.getLogger(__name__)


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


def saved_options(model_dir: str | Path) -> PhazeAOptions | None:
    """The folder's saved options, None for a new model (the one read of phaze.json per run)."""
    folder = ModelFolder(model_dir)
    return folder.read_options() if folder.is_model() else None


def resolve_run_options(model_dir: str | Path, requested: PhazeAOptions | None,
                        load_layers: Sequence[str] | None = None,
                        freeze_layers: Sequence[str] | bool = (),
                        saved: PhazeAOptions | None = None) -> PhazeAOptions:
    """The options this run trains with; nothing is written yet.

    A new model takes `requested` (or the defaults); an existing one its saved options plus
    the requested updatable ones. Names given for this run replace the options' name lists.
    `saved`: the folder's options when the caller already read them (`saved_options`).
    """
    saved = saved if saved is not None else saved_options(model_dir)
    if saved is not None:
        options = _resume_options(saved, requested)
    else:
        options = requested or _default_options()
    return _with_name_lists(options, load_layers, freeze_layers)


def open_session(model_dir: str | Path, options: PhazeAOptions, device: torch.device,
                 load_weights: str | Path | None = None,
                 freeze: bool = False, write: bool = True,
                 saved: PhazeAOptions | None = None, framing: Framing | None = None,
                 design: Design | None = None) -> ModelSession:
    """The model for this run on `device`: built, weights loaded, folder written, frozen.

    `options` come from `resolve_run_options`, `saved` from `saved_options` (None: a new
    model), `design` is the plan of `options` when already made. With `freeze` the options'
    `freeze_layers` are frozen; without it everything trains (a run without the flag
    unfreezes). `write=False` (every training process but rank 0) leaves the files to the
    writer. `framing` is saved for a new model, or for a folder saved before framing existed.
    """
    checkpoint = load_checkpoint(model_dir) if saved else None
    model = _build(options, device, checkpoint, design)
    if write:
        _write_folder(ModelFolder(model_dir), options, saved, framing or Framing())
    transfer = _transfer(model, checkpoint, load_weights, options.load_layers)
    frozen = _freeze(model, options.freeze_layers if freeze else ())
    return ModelSession(model, options, checkpoint, frozen, transfer)


def _default_options() -> PhazeAOptions:
    logger.info("no options given for the new model: using the Phaze-A defaults")
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
        logger.info("option '%s' changed for this model: %r → %r", name, *changed[name])
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


def _write_folder(folder: ModelFolder, options: PhazeAOptions, saved: PhazeAOptions | None,
                  framing: Framing) -> None:
    if saved is None:
        create_model_folder(folder.path, options, framing)
        return
    if options != saved:
        folder.write_options(options)   # updated options that are kept
    if not folder.has_framing():
        folder.write_framing(framing)   # a folder saved before framing existed


# --- weights --------------------------------------------------------------------------------
def _build(options: PhazeAOptions, device: torch.device, checkpoint: Checkpoint | None,
           design: Design | None) -> PhazeA:
    if checkpoint is None:
        # A new model: pretrained backbone weights when `enc_load_weights` asks for them.
        return build_model(options, device, pretrained=True, design=design)
    model = build_from_checkpoint(options, checkpoint, device, design)
    set_dropout(model, options)
    logger.info("resuming at iteration %d from %s", checkpoint.state.iteration, checkpoint.path)
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
        logger.warning("--load-weights is ignored: this model already has weights (weights are "
                    "loaded only when a model is created)")
        return None
    return load_layers_from(model, load_weights, names)


def _freeze(model: PhazeA, names: Sequence[str]) -> tuple[str, ...]:
    missing = apply_freeze(model, tuple(names))
    if missing:
        logger.warning("freeze: not in this model, ignored: %s", ", ".join(missing))
    frozen = tuple(name for name in names
                   if name not in missing and find_submodel(model, name) is not None)
    if frozen:
        logger.info("freeze: %s frozen for this run", ", ".join(frozen))
    return frozen
