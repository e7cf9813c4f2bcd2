"""A model folder on disk: options, weights and training state, written atomically, no pickle.

Layout of a model folder:
    phaze.json              marker + the options that shape the network
    checkpoint/             latest save: weights.safetensors, optimizer.safetensors, state.json
    checkpoint.bak/         the save before it (used if `checkpoint/` is missing or damaged)
    snapshots/<iteration>/  periodic copies of `checkpoint/`
A save is written to `checkpoint.tmp/` and then renamed into place, so a crash at any moment
leaves at least one complete checkpoint.
"""
from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from phaze.config.options import OPTION_FIELDS, PhazeAOptions
from phaze.config.parse import options_from_mapping
from phaze.errors import ModelDirError, SaveError

FORMAT = "phaze-model"
FORMAT_VERSION = 1
MARKER = "phaze.json"
LATEST, BACKUP, TEMP = "checkpoint", "checkpoint.bak", "checkpoint.tmp"
WEIGHTS, OPTIMIZER, STATE = "weights.safetensors", "optimizer.safetensors", "state.json"


@dataclass
class TrainingState:
    """Everything besides weights that a resume needs."""

    iteration: int = 0
    loss_history: list[dict[str, float]] = field(default_factory=list)
    trainer: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class Checkpoint:
    weights: dict[str, torch.Tensor]
    state: TrainingState
    optimizer: dict[str, Any] | None
    path: Path


def is_model_dir(path: str | Path) -> bool:
    return (Path(path) / MARKER).is_file()


def write_marker(model_dir: str | Path, options: PhazeAOptions) -> None:
    model_dir = Path(model_dir)
    model_dir.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "version": FORMAT_VERSION, "options": options.to_dict()}
    _atomic_write_text(model_dir / MARKER, json.dumps(payload, indent=2))


def read_options(model_dir: str | Path) -> PhazeAOptions:
    """The saved options of a model folder, or a ModelDirError saying why it is not one."""
    marker = Path(model_dir) / MARKER
    if not marker.is_file():
        raise ModelDirError(f"'{model_dir}' is not a Phaze model folder (no {MARKER})")
    try:
        payload = json.loads(marker.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as error:
        raise ModelDirError(f"'{marker}' is damaged: {error}") from None
    if payload.get("format") != FORMAT:
        raise ModelDirError(f"'{model_dir}' is not a Phaze model folder ({MARKER} format "
                            f"{payload.get('format')!r})")
    saved = {k: v for k, v in payload.get("options", {}).items() if k in OPTION_FIELDS}
    # Ranges were checked when the folder was made; an imported faceswap model may hold
    # values outside Phaze's slider ranges, which faceswap itself accepts.
    return options_from_mapping(saved, enforce_range=False)


# --- saving ---------------------------------------------------------------------------------
def save_checkpoint(model_dir: str | Path, weights: dict[str, torch.Tensor],
                    state: TrainingState, optimizer: dict[str, Any] | None = None) -> Path:
    """Write a complete checkpoint next to the current one, then swap it in by renames.

    A failed write (disk full, permission denied) removes the temporary folder and raises
    SaveError naming the folder and the space a checkpoint needs; the previous checkpoint is
    untouched, or (failure between the two renames) still loadable as the backup.
    """
    model_dir = Path(model_dir)
    temp = model_dir / TEMP
    tensors = {k: v.detach().contiguous().cpu() for k, v in weights.items()}
    optimizer_tensors, optimizer_meta = ({}, None) if optimizer is None \
        else flatten_optimizer_state(optimizer)
    try:
        shutil.rmtree(temp, ignore_errors=True)
        temp.mkdir(parents=True)
        save_file(tensors, temp / WEIGHTS)
        if optimizer is not None:
            save_file(optimizer_tensors, temp / OPTIMIZER)
        payload = {"iteration": state.iteration, "loss_history": state.loss_history,
                   "trainer": state.trainer, "extra": state.extra, "optimizer": optimizer_meta}
        (temp / STATE).write_text(json.dumps(payload), encoding="utf-8")
        _fsync_files(temp)
        _promote(model_dir, temp)
    except Exception as error:   # noqa: BLE001 - safetensors' full-disk error is no OSError
        shutil.rmtree(temp, ignore_errors=True)
        needed = _tensor_bytes(tensors) + _tensor_bytes(optimizer_tensors)
        raise SaveError(_save_failure(model_dir, error, needed)) from error
    except BaseException:   # Ctrl-C mid-save: no half-written checkpoint.tmp is left
        shutil.rmtree(temp, ignore_errors=True)
        raise
    return model_dir / LATEST


def _tensor_bytes(tensors: dict[str, torch.Tensor]) -> int:
    return sum(t.numel() * t.element_size() for t in tensors.values())


def _save_failure(model_dir: Path, error: BaseException, needed_bytes: int) -> str:
    from phaze.io.images import write_reason

    try:
        free = f"{shutil.disk_usage(model_dir).free / 2**20:.1f} MiB free"
    except OSError:
        free = "free space unknown"
    reason = write_reason(error)
    return (f"could not save the checkpoint in {model_dir}: {reason}; a checkpoint needs about "
            f"{needed_bytes / 2**20:.1f} MiB ({free}); the previous checkpoint is kept")


def _promote(model_dir: Path, temp: Path) -> None:
    latest, backup = model_dir / LATEST, model_dir / BACKUP
    if latest.exists():
        shutil.rmtree(backup, ignore_errors=True)
        os.replace(latest, backup)
    os.replace(temp, latest)
    _fsync_dir(model_dir)


def snapshot(model_dir: str | Path, iteration: int) -> Path:
    source = Path(model_dir) / LATEST
    target = Path(model_dir) / "snapshots" / f"{iteration:08d}"
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
    return any((Path(model_dir) / name / STATE).is_file() for name in (LATEST, BACKUP))


def load_checkpoint(model_dir: str | Path, with_optimizer: bool = True) -> Checkpoint | None:
    """The newest complete checkpoint (latest, else backup), or None for a new model."""
    model_dir = Path(model_dir)
    errors = []
    for name in (LATEST, BACKUP):
        path = model_dir / name
        if not path.is_dir():
            continue
        try:
            return _read_checkpoint(path, with_optimizer)
        except (OSError, ValueError, KeyError, SafetensorError) as error:
            errors.append(f"{path}: {error}")
    if errors:
        raise ModelDirError("no loadable checkpoint in '" + str(model_dir) + "': "
                            + "; ".join(errors))
    return None


def _read_checkpoint(path: Path, with_optimizer: bool) -> Checkpoint:
    payload = json.loads((path / STATE).read_text(encoding="utf-8"))
    weights = load_file(path / WEIGHTS)
    optimizer = None
    if with_optimizer and payload.get("optimizer") is not None and (path / OPTIMIZER).is_file():
        optimizer = unflatten_optimizer_state(load_file(path / OPTIMIZER), payload["optimizer"])
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
def _atomic_write_text(path: Path, text: str) -> None:
    from phaze.io.images import write_failure

    temp = path.with_name(path.name + ".tmp")
    try:
        with open(temp, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
    except OSError as error:
        temp.unlink(missing_ok=True)
        raise SaveError(write_failure(path, error)) from None
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def _fsync_files(path: Path) -> None:
    for child in path.iterdir():
        if child.is_file():
            with open(child, "rb") as handle:
                os.fsync(handle.fileno())
    _fsync_dir(path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- a trained model in one call ------------------------------------------------------------
def load_model_dir(model_dir: str | Path, device: torch.device | str = "cpu"):
    """Rebuild the saved design and load its newest weights (for swap, export, previews)."""
    from phaze.model.phaze_a import build_model  # the model package does not need this module

    options = read_options(model_dir)
    checkpoint = load_checkpoint(model_dir, with_optimizer=False)
    if checkpoint is None:
        raise ModelDirError(f"'{model_dir}' holds no trained weights yet (no {LATEST}/)")
    # A real build (not meta + to_empty): non-persistent buffers such as a backbone's fixed
    # normalisation constants are not in the weights file and must be initialised.
    model = build_model(options, device=device)
    missing, unexpected = model.load_state_dict(checkpoint.weights, strict=False)
    if missing or unexpected:
        raise ModelDirError(f"weights in '{checkpoint.path}' do not fit the saved options "
                            f"(missing {len(missing)}, unexpected {len(unexpected)} tensors)")
    return model.eval(), checkpoint
