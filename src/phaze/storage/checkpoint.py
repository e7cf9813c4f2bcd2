"""Checkpoints of a model folder: weights, optimiser and training state, no pickle.

A save is written to `checkpoint.tmp/` and then renamed into place (the previous one becomes
`checkpoint.bak/`), so a crash at any moment leaves at least one complete checkpoint. The paths
are `ModelFolder`'s.

Training saves its parts as one `{name: component}` mapping of objects with `state_dict` /
`load_state_dict` (torchtitan's Stateful idea). Where each lands is the layout every Phaze
checkpoint has had, so old checkpoints resume:
    "model"      its tensors in weights.safetensors
    "optimizer"  the tensors of its torch-format state in optimizer.safetensors, their JSON
                 skeleton in state.json "optimizer", its other keys in state.json "extra"
    "progress"   state.json's top level (iteration, loss_history, trainer)
    any other    its (JSON-ready) keys in state.json "extra"
"""
from __future__ import annotations

import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from phaze.config.options import PhazeAOptions
from phaze.errors import ModelDirError, SaveError
from phaze.faces.framing import Framing
from phaze.io.atomic import fsync_file, fsync_folder, write_reason
from phaze.storage.folder import ModelFolder

OPTIMIZER_KEYS = ("state", "param_groups")


class Stateful(Protocol):
    """A part of training that is saved and restored by name."""

    def state_dict(self) -> dict[str, Any]: ...

    def load_state_dict(self, state_dict: dict[str, Any]) -> Any: ...


@dataclass
class TrainingState:
    """Everything besides weights that a resume needs."""

    iteration: int = 0
    loss_history: list[dict[str, float]] = field(default_factory=list)
    trainer: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)   # the other components' JSON

    # The "progress" component: where the data stream and the loss averages stand.
    def state_dict(self) -> dict[str, Any]:
        return {"iteration": self.iteration, "loss_history": self.loss_history,
                "trainer": self.trainer}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self.iteration = state_dict["iteration"]
        self.loss_history = list(state_dict.get("loss_history", []))
        self.trainer = dict(state_dict.get("trainer", {}))


@dataclass
class Checkpoint:
    weights: dict[str, torch.Tensor]
    state: TrainingState
    optimizer: dict[str, Any] | None
    path: Path


def is_model_dir(path: str | Path) -> bool:
    return ModelFolder(path).is_model()


def write_marker(model_dir: str | Path, options: PhazeAOptions) -> None:
    ModelFolder(model_dir).write_options(options)


def read_options(model_dir: str | Path) -> PhazeAOptions:
    """The saved options of a model folder, or a ModelDirError saying why it is not one."""
    return ModelFolder(model_dir).read_options()


# --- saving ---------------------------------------------------------------------------------
def save_checkpoint(model_dir: str | Path, weights: dict[str, torch.Tensor],
                    state: TrainingState, optimizer: dict[str, Any] | None = None) -> Path:
    """Write a complete checkpoint next to the current one, then swap it in by renames.

    A failed write (disk full, permission denied) removes the temporary folder and raises
    SaveError naming the folder and the space a checkpoint needs; the previous checkpoint is
    untouched, or (failure between the two renames) still loadable as the backup.
    """
    folder = ModelFolder(model_dir)
    model_dir, temp = folder.path, folder.temp
    tensors = {k: v.detach().contiguous().cpu() for k, v in weights.items()}
    optimizer_tensors, optimizer_meta = ({}, None) if optimizer is None \
        else flatten_optimizer_state(optimizer)
    try:
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
        save_file(tensors, temp / folder.WEIGHTS)
        if optimizer is not None:
            save_file(optimizer_tensors, temp / folder.OPTIMIZER)
        payload = {**state.state_dict(), "extra": state.extra, "optimizer": optimizer_meta}
        (temp / folder.STATE).write_text(json.dumps(payload), encoding="utf-8")
        _fsync_files(temp)
        _promote(folder)
    except Exception as error:   # noqa: BLE001 - safetensors' full-disk error is no OSError
        shutil.rmtree(temp, ignore_errors=True)
        needed = _tensor_bytes(tensors) + _tensor_bytes(optimizer_tensors)
        raise SaveError(_save_failure(model_dir, error, needed)) from error
    except BaseException:   # Ctrl-C mid-save: no half-written checkpoint.tmp is left
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return folder.latest


def _tensor_bytes(tensors: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors.values())


def _save_failure(model_dir: Path, error: BaseException, needed_bytes: int) -> str:
    try:
        free = f"{shutil.disk_usage(model_dir).free / 2**20:.1f} MiB free"
    except OSError:
        free = "free space unknown"
    reason = write_reason(error)
    return (f"could not save the checkpoint in {model_dir}: {reason}; a checkpoint needs about "
            f"{needed_bytes / 2**20:.1f} MiB ({free}); the previous checkpoint is kept")


def _promote(folder: ModelFolder) -> None:
    if folder.latest.exists():
        shutil.rmtree(folder.backup, ignore_errors=True)
        os.replace(folder.latest, folder.backup)
    os.replace(folder.temp, folder.latest)
    fsync_folder(folder.path)


def snapshot(model_dir: str | Path, iteration: int) -> Path:
    folder = ModelFolder(model_dir)
    source, target = folder.latest, folder.snapshot_dir(iteration)
    shutil.rmtree(target, ignore_errors=True)
    try:
        shutil.copytree(source, target)
    except OSError as error:
        shutil.rmtree(target, ignore_errors=True)
        needed = sum(path.stat().st_size for path in source.iterdir())
        raise SaveError(_save_failure(target.parent, error, needed)) from error
    return target


# --- loading --------------------------------------------------------------------------------
def has_checkpoint(model_dir: str | Path) -> bool:
    """True when `model_dir` holds a checkpoint (latest or backup); reads nothing."""
    return ModelFolder(model_dir).has_checkpoint()


def load_checkpoint(model_dir: str | Path, with_optimizer: bool = True) -> Checkpoint | None:
    """The newest complete checkpoint (latest, else backup), or None for a new model."""
    folder = ModelFolder(model_dir)
    errors = []
    for path in folder.saves():
        if not path.is_dir():
            continue
        try:
            return _read_checkpoint(path, with_optimizer)
        except (OSError, ValueError, KeyError, SafetensorError) as error:
            errors.append(f"{path}: {error}")
    if errors:
        raise ModelDirError("no loadable checkpoint in '" + str(folder.path) + "': "
                            + "; ".join(errors))
    return None


def _read_checkpoint(path: Path, with_optimizer: bool) -> Checkpoint:
    payload = json.loads((path / ModelFolder.STATE).read_text(encoding="utf-8"))
    weights = load_file(path / ModelFolder.WEIGHTS)
    optimizer = None
    optimizer_file = path / ModelFolder.OPTIMIZER
    if with_optimizer and payload.get("optimizer") is not None and optimizer_file.is_file():
        optimizer = unflatten_optimizer_state(load_file(optimizer_file), payload["optimizer"])
    state = TrainingState(payload["iteration"], payload.get("loss_history", []),
                          payload.get("trainer", {}), payload.get("extra", {}))
    return Checkpoint(weights, state, optimizer, path)


# --- optimiser state without pickle ---------------------------------------------------------
def flatten_optimizer_state(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimiser state_dict into safetensors tensors and a JSON skeleton."""
    tensors: dict[str, torch.Tensor] = {}
    per_param: dict[str, dict[str, Any]] = {}
    for param_id, values in state_dict["state"].items():
        entry: dict[str, Any] = {}
        for key, value in values.items():
            if isinstance(value, torch.Tensor):
                name = f"{param_id}.{key}"
                tensors[name] = value.detach().contiguous().cpu()
                entry[key] = {"tensor": name}
            else:
                entry[key] = {"value": value}
        per_param[str(param_id)] = entry
    return tensors, {"state": per_param, "param_groups": state_dict["param_groups"]}


def unflatten_optimizer_state(tensors: dict[str, torch.Tensor], meta: dict) -> dict[str, Any]:
    state = {}
    for param_id, entry in meta["state"].items():
        state[int(param_id)] = {key: tensors[v["tensor"]] if "tensor" in v else v["value"]
                                for key, v in entry.items()}
    return {"state": state, "param_groups": meta["param_groups"]}


# --- filesystem helpers ---------------------------------------------------------------------
def _fsync_files(path: Path) -> None:
    for child in path.iterdir():
        if child.is_file():
            fsync_file(child)
    fsync_folder(path)


# --- training components by name -------------------------------------------------------------
def save_components(model_dir: str | Path, states: Mapping[str, dict[str, Any]]) -> Path:
    """Save `{name: component.state_dict()}` as a checkpoint, in the layout the module
    docstring gives ("model" is required; "optimizer" and "progress" are optional)."""
    states = dict(states)
    weights = states.pop("model")
    progress = TrainingState()
    progress.load_state_dict(states.pop("progress", progress.state_dict()))
    optimizer = dict(states.pop("optimizer", {}))
    torch_state = {key: optimizer.pop(key) for key in OPTIMIZER_KEYS if key in optimizer}
    for state in (optimizer, *states.values()):
        progress.extra.update(state)
    return save_checkpoint(model_dir, weights, progress, torch_state or None)


def restore_components(checkpoint: Checkpoint, components: Mapping[str, Stateful]) -> None:
    """Give each component its saved state. The optimiser gets its torch-format state (absent
    when none was saved) with the "extra" keys; every other component gets "extra" and takes
    its own keys from it."""
    extra = checkpoint.state.extra
    for name, component in components.items():
        if name == "model":
            component.load_state_dict(checkpoint.weights)
        elif name == "progress":
            component.load_state_dict(checkpoint.state.state_dict())
        elif name == "optimizer":
            component.load_state_dict({**extra, **(checkpoint.optimizer or {})})
        else:
            component.load_state_dict(extra)


# --- a trained model in one call ------------------------------------------------------------
def build_from_checkpoint(options: PhazeAOptions, checkpoint: Checkpoint,
                          device: torch.device | str = "cpu", design=None):
    """The saved design built on `device` with the checkpoint's weights (the one place a model
    is rebuilt from a folder: swap, export, previews and a resumed training all come here)."""
    from phaze.model.phaze_a import build_model  # the model package does not need this module

    # A real build (not meta + to_empty): non-persistent buffers such as a backbone's fixed
    # normalisation constants are not in the weights file and must be initialised.
    model = build_model(options, device=device, design=design)
    missing, unexpected = model.load_state_dict(checkpoint.weights, strict=False)
    if missing or unexpected:
        raise ModelDirError(
            f"weights in '{checkpoint.path}' do not fit the saved options (missing "
            f"{len(missing)} tensors, e.g. {missing[:1]}; unexpected {len(unexpected)}, "
            f"e.g. {unexpected[:1]})")
    return model


def load_model_dir(model_dir: str | Path, device: torch.device | str = "cpu"):
    """Rebuild the saved design and load its newest weights (for swap, export, previews)."""
    folder = ModelFolder(model_dir)
    options = folder.read_options()
    checkpoint = load_checkpoint(folder.path, with_optimizer=False)
    if checkpoint is None:
        raise ModelDirError(f"'{model_dir}' holds no trained weights yet (no "
                            f"{folder.LATEST}/)")
    return build_from_checkpoint(options, checkpoint, device).eval(), checkpoint


def create_model_folder(model_dir: str | Path, options: PhazeAOptions, framing: Framing,
                        weights: Mapping[str, torch.Tensor] | None = None,
                        **framing_extra: Any) -> ModelFolder:
    """A new model folder: its options and framing, and with `weights` (an imported model) a
    first checkpoint at iteration 0. Training and the importers create folders only here."""
    folder = ModelFolder(model_dir)
    folder.write_options(options)
    folder.write_framing(framing, **framing_extra)
    if weights is not None:
        save_components(folder.path, {"model": dict(weights)})
    return folder
