"""ModelFolder: the one owner of a model folder's paths; create_model_folder and components."""
from __future__ import annotations

import json

import pytest
import torch

from phaze.config.options import PhazeAOptions
from phaze.errors import ConfigError, ModelDirError
from phaze.faces.framing import Framing
from phaze.storage.checkpoint import (TrainingState, create_model_folder, load_checkpoint,
                                      load_model_dir, restore_components, save_components)
from phaze.storage.folder import ModelFolder


def test_paths_are_the_layout_every_phaze_folder_has(tmp_path) -> None:
    folder = ModelFolder(tmp_path)
    assert folder.options_file == tmp_path / "phaze.json"
    assert folder.framing_file == tmp_path / "framing.json"
    assert folder.saves() == (tmp_path / "checkpoint", tmp_path / "checkpoint.bak")
    assert folder.temp == tmp_path / "checkpoint.tmp"
    assert folder.snapshot_dir(40) == tmp_path / "snapshots" / "00000040"
    assert (folder.preview, folder.previews) == (tmp_path / "preview.png", tmp_path / "previews")
    assert folder.logs == tmp_path / "logs"


def test_own_names_cover_what_the_model_needs_and_not_the_users_files() -> None:
    names = ModelFolder.own_names()
    assert {"phaze.json", "framing.json", "checkpoint", "checkpoint.bak", "checkpoint.tmp",
            "snapshots"} <= names
    assert "swap.onnx" not in names and "preview.png" not in names


def test_export_refuses_to_overwrite_the_folders_own_files(tmp_path) -> None:
    from phaze.export.common import check_output_outside_model

    for name in ModelFolder.own_names():
        with pytest.raises(ConfigError, match=f"model's own '{name}'"):
            check_output_outside_model(tmp_path, tmp_path / name)
    check_output_outside_model(tmp_path, tmp_path / "swap.onnx")   # the user's: allowed


def test_options_round_trip_and_a_foreign_folder_is_refused(tmp_path) -> None:
    folder = ModelFolder(tmp_path / "model")
    assert not folder.is_model()
    with pytest.raises(ModelDirError, match="not a Phaze model folder .no phaze.json"):
        folder.read_options()
    folder.write_options(PhazeAOptions(output_size=96))
    assert folder.is_model() and folder.read_options().output_size == 96
    folder.options_file.write_text(json.dumps({"format": "other"}))
    with pytest.raises(ModelDirError, match="format 'other'"):
        folder.read_options()


def test_previews_are_written_as_latest_and_numbered(tmp_path) -> None:
    folder = ModelFolder(tmp_path)
    numbered = folder.write_preview(12, b"png-bytes")
    assert numbered == tmp_path / "previews" / "preview_00000012.png"
    assert folder.preview.read_bytes() == numbered.read_bytes() == b"png-bytes"


def test_create_model_folder_writes_options_and_framing_only(tmp_path) -> None:
    folder = create_model_folder(tmp_path / "new", PhazeAOptions(), Framing("head", 87.5))
    assert folder.read_options() == PhazeAOptions()
    assert folder.read_framing() == Framing("head", 87.5)
    assert not folder.has_checkpoint()


def test_create_model_folder_with_weights_is_a_loadable_model(tmp_path, train_tiny) -> None:
    from phaze.config.parse import options_from_mapping
    from phaze.model.phaze_a import build_model

    options = options_from_mapping(train_tiny)
    weights = build_model(options).state_dict()
    create_model_folder(tmp_path / "imported", options, Framing(), weights,
                        imported_from={"tool": "faceswap"})
    model, checkpoint = load_model_dir(tmp_path / "imported")
    assert checkpoint.state.iteration == 0 and checkpoint.optimizer is None
    assert all(torch.equal(model.state_dict()[name], tensor) for name, tensor in weights.items())
    saved = json.loads(ModelFolder(tmp_path / "imported").framing_file.read_text())
    assert saved["imported_from"] == {"tool": "faceswap"}


class _Counter:
    """A component with JSON state, as the scheduler and clipper are."""

    def __init__(self, key: str, value: int = 0) -> None:
        self.key, self.value = key, value

    def state_dict(self) -> dict:
        return {self.key: self.value}

    def load_state_dict(self, saved: dict) -> None:
        self.value = saved.get(self.key, 0)


def test_components_round_trip_by_name_in_the_version_1_layout(tmp_path) -> None:
    model = torch.nn.Linear(2, 2)
    optimizer = torch.optim.Adam(model.parameters())
    model(torch.ones(1, 2)).sum().backward()
    optimizer.step()
    progress = TrainingState(iteration=7, loss_history=[{"iteration": 7.0, "a": 0.5}])
    save_components(tmp_path, {"model": model.state_dict(), "optimizer": optimizer.state_dict(),
                               "progress": progress.state_dict(),
                               "warmup": _Counter("scheduler_steps", 7).state_dict()})

    state = json.loads((ModelFolder(tmp_path).latest / "state.json").read_text())
    assert state["iteration"] == 7 and state["extra"] == {"scheduler_steps": 7}
    assert set(state["optimizer"]) == {"state", "param_groups"}

    fresh_model, fresh_progress, warmup = torch.nn.Linear(2, 2), TrainingState(), _Counter(
        "scheduler_steps")
    fresh_optimizer = torch.optim.Adam(fresh_model.parameters())
    restore_components(load_checkpoint(tmp_path), {
        "model": fresh_model, "optimizer": fresh_optimizer, "progress": fresh_progress,
        "warmup": warmup})
    assert torch.equal(fresh_model.weight, model.weight)
    assert fresh_progress.iteration == 7 and fresh_progress.loss_history[0]["a"] == 0.5
    assert warmup.value == 7
    assert torch.equal(fresh_optimizer.state_dict()["state"][0]["exp_avg"],
                       optimizer.state_dict()["state"][0]["exp_avg"])
