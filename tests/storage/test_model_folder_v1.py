"""A model folder saved by the storage code before issue 22 (tests/storage/model_folder_v1,
made by scripts/testdata/make_model_folder_v1.py) still loads, exports and resumes."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import torch

from phaze.faces.framing import Framing
from phaze.storage.checkpoint import load_checkpoint, load_model_dir
from phaze.storage.folder import ModelFolder
from phaze.train.config import saved_trainer_config
from phaze.train.loop import Trainer

V1 = Path(__file__).parent / "model_folder_v1"


@pytest.fixture
def v1_folder(tmp_path) -> Path:
    """A copy: the committed folder is never written."""
    return Path(shutil.copytree(V1, tmp_path / "model"))


def test_its_options_framing_and_weights_load() -> None:
    folder = ModelFolder(V1)
    assert folder.read_options().fs_original_max_filters == 8
    assert folder.read_framing() == Framing("face", 87.5, 0.0)
    model, checkpoint = load_model_dir(V1)
    assert checkpoint.state.iteration == 4 and checkpoint.path == folder.latest
    faces = model.side_forward(torch.rand(1, 3, model.input_size, model.input_size), "a")[0]
    assert faces.shape == (1, 3, 64, 64) and torch.isfinite(faces).all()


def test_it_exports_with_its_framing(tmp_path) -> None:
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxruntime")
    from phaze.export.run import export_model_dir

    report = export_model_dir(V1, tmp_path / "swap.onnx")
    metadata = {p.key: p.value for p in onnx.load(str(report.path)).metadata_props}
    assert float(metadata["phaze.coverage"]) == 87.5
    assert report.max_abs_diff < 1e-3


def test_training_resumes_from_it_where_it_stopped(v1_folder, synthetic_faces) -> None:
    saved = load_checkpoint(v1_folder)
    config = saved_trainer_config(v1_folder).replace(iterations=2, preview_interval=1000)
    trainer = Trainer(*synthetic_faces, v1_folder, trainer=config)

    # Restored before any step: optimiser moments by parameter name, warm-up, clipper.
    order = saved.state.extra["optimizer_params"]
    names = {id(p): n for n, p in trainer.model.named_parameters()}
    restored = trainer.parts.optimizer.state_dict()["state"]
    for index, param in enumerate(p for g in trainer.parts.optimizer.param_groups
                                  for p in g["params"]):
        saved_moment = saved.optimizer["state"][order.index(names[id(param)])]["exp_avg"]
        assert torch.equal(restored[index]["exp_avg"], saved_moment)
    assert trainer.parts.scheduler.last_epoch == 4
    assert len(trainer.parts.clipper.state_dict()["history"]) > 0

    result = trainer.run()

    assert (result.iteration, result.steps) == (6, 2)
    resumed = load_checkpoint(v1_folder)
    assert resumed.state.iteration == 6 and resumed.state.extra["scheduler_steps"] == 6
    assert len(resumed.state.loss_history) == len(saved.state.loss_history) + 1
    assert any(not torch.equal(resumed.weights[name], saved.weights[name])
               for name in saved.weights)
    assert load_checkpoint(v1_folder).path == ModelFolder(v1_folder).latest
    assert ModelFolder(v1_folder).read_framing() == Framing("face", 87.5, 0.0)


def test_a_training_start_reads_the_options_once_and_plans_the_design_once(
        v1_folder, synthetic_faces, monkeypatch) -> None:
    import phaze.model.phaze_a as phaze_a
    import phaze.train.loop as loop

    reads, plans = [], []
    real_read, real_plan = ModelFolder.read_options, loop.plan_design
    monkeypatch.setattr(ModelFolder, "read_options",
                        lambda self: reads.append(self.path) or real_read(self))
    counting_plan = lambda options: plans.append(1) or real_plan(options)   # noqa: E731
    monkeypatch.setattr(loop, "plan_design", counting_plan)
    monkeypatch.setattr(phaze_a, "plan_design", counting_plan)

    Trainer(*synthetic_faces, v1_folder, trainer=saved_trainer_config(v1_folder))

    assert reads == [v1_folder] and len(plans) == 1
