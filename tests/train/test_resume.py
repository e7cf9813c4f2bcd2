"""Stop and resume: the same weights, optimiser state and counters; atomic saves."""
from __future__ import annotations

import os

import pytest
import torch

from phaze.storage import checkpoint as checkpoint_module
from phaze.storage.checkpoint import load_checkpoint, read_options
from phaze.config.parse import options_from_mapping
from phaze.errors import ConfigError
from phaze.train.config import saved_trainer_config
from phaze.train.loop import Trainer, train
from phaze.train.optim.config import OptimizerConfig


@pytest.fixture
def first_run(tmp_path, synthetic_faces, train_tiny, fast_trainer):
    model_dir = tmp_path / "model"
    result = train(*synthetic_faces, model_dir, options_from_mapping(train_tiny),
                   fast_trainer(iterations=3))
    return model_dir, result


def _assert_same_tensors(left: dict, right: dict) -> None:
    assert left.keys() == right.keys()
    for key in left:
        assert torch.equal(left[key].cpu(), right[key].cpu()), key


def test_resume_continues_at_the_saved_iteration(first_run, synthetic_faces, fast_trainer):
    model_dir, _ = first_run

    result = train(*synthetic_faces, model_dir, trainer=fast_trainer(iterations=2))

    assert result.iteration == 5 and result.steps == 2
    assert load_checkpoint(model_dir).state.iteration == 5


def test_resume_restores_weights_and_optimizer_state(first_run, synthetic_faces, fast_trainer):
    model_dir, _ = first_run
    saved = load_checkpoint(model_dir)

    trainer = Trainer(*synthetic_faces, model_dir, trainer=fast_trainer())

    assert trainer.iteration == 3
    _assert_same_tensors(trainer.model.state_dict(), saved.weights)
    restored = trainer.parts.optimizer.state_dict()["state"]
    assert restored.keys() == saved.optimizer["state"].keys()
    for index, values in restored.items():
        for key, value in values.items():
            assert torch.equal(torch.as_tensor(value), torch.as_tensor(
                saved.optimizer["state"][index][key])), (index, key)
    assert trainer.parts.scheduler.last_epoch == saved.state.extra["scheduler_steps"]


def test_resume_uses_the_saved_options(first_run, synthetic_faces, fast_trainer, train_tiny):
    model_dir, _ = first_run

    trainer = Trainer(*synthetic_faces, model_dir, trainer=fast_trainer())

    assert trainer.session.options == options_from_mapping(train_tiny)


def test_a_conflicting_structural_option_on_resume_is_a_clear_error(
        first_run, synthetic_faces, fast_trainer, train_tiny):
    model_dir, _ = first_run
    other = options_from_mapping(dict(train_tiny, bottleneck_size=256))

    with pytest.raises(ConfigError, match="bottleneck_size"):
        train(*synthetic_faces, model_dir, other, fast_trainer())


def test_trainer_options_may_change_on_resume(first_run, synthetic_faces, fast_trainer):
    model_dir, _ = first_run
    trainer_config = fast_trainer(iterations=1,
                                  optimizer=OptimizerConfig(learning_rate=2e-4))

    trainer = Trainer(*synthetic_faces, model_dir, trainer=trainer_config)
    trainer.run()

    assert trainer.parts.optimizer.param_groups[0]["lr"] == pytest.approx(2e-4)
    assert saved_trainer_config(model_dir).optimizer.learning_rate == pytest.approx(2e-4)


def test_dropout_change_on_resume_takes_effect_and_is_saved(first_run, synthetic_faces,
                                                            fast_trainer, train_tiny):
    model_dir, _ = first_run
    changed = options_from_mapping(dict(train_tiny, fc_dropout=0.3))

    trainer = Trainer(*synthetic_faces, model_dir, changed, fast_trainer())

    rates = [m.p for m in trainer.model.fc_both.modules() if isinstance(m, torch.nn.Dropout)]
    assert rates and all(rate == pytest.approx(0.3) for rate in rates)
    assert read_options(model_dir).fc_dropout == pytest.approx(0.3)


def test_a_crash_between_temp_write_and_rename_keeps_the_previous_checkpoint(
        tmp_path, synthetic_faces, train_tiny, fast_trainer, monkeypatch):
    model_dir = tmp_path / "model"
    options = options_from_mapping(train_tiny)
    train(*synthetic_faces, model_dir, options, fast_trainer(iterations=2))  # saved at 2
    good = load_checkpoint(model_dir)
    real_replace = os.replace

    def crashing_replace(source, target):
        # latest → backup has happened; the temp → latest rename "crashes".
        if os.path.basename(source) == checkpoint_module.TEMP:
            raise OSError("simulated crash")
        return real_replace(source, target)

    monkeypatch.setattr(checkpoint_module.os, "replace", crashing_replace)

    with pytest.raises(OSError, match="simulated crash"):
        train(*synthetic_faces, model_dir, trainer=fast_trainer(iterations=2))

    monkeypatch.setattr(checkpoint_module.os, "replace", real_replace)
    recovered = load_checkpoint(model_dir)
    assert recovered.state.iteration == 2
    _assert_same_tensors(recovered.weights, good.weights)
    resumed = Trainer(*synthetic_faces, model_dir, trainer=fast_trainer())
    assert resumed.iteration == 2
