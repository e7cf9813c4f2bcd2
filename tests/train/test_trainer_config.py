"""One trainer config tree: defaults < saved (resume) < TOML [trainer] < command line."""
import json

import pytest

from phaze.storage.checkpoint import LATEST, STATE
from phaze.errors import ConfigError
from phaze.train.config import (
    TrainerConfig, apply_changes, resolve_trainer_config, trainer_from_toml)
from phaze.train.loss_config import LossSpec


def _toml(tmp_path, text: str):
    path = tmp_path / "run.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _save(model_dir, config: TrainerConfig) -> None:
    (model_dir / LATEST).mkdir(parents=True)
    (model_dir / LATEST / STATE).write_text(json.dumps({"trainer": config.to_dict()}))


def test_a_trainer_table_sets_top_level_and_nested_settings(tmp_path):
    path = _toml(tmp_path, 'output_size = 64\n[trainer]\nbatch_size = 6\nlosses = "mae:2"\n'
                           '[trainer.optimizer]\nlearning_rate = 1e-4\n')
    config = apply_changes(TrainerConfig(), trainer_from_toml(path))
    assert config.batch_size == 6
    assert config.optimizer.learning_rate == 1e-4
    assert config.optimizer.name == "adam"           # untouched nested settings stay
    assert config.losses.functions == (LossSpec("mae", 2.0),)


@pytest.mark.parametrize(("text", "message"), [
    ("[trainer]\nbatch_sise = 6\n", r"unknown setting 'batch_sise' \(did you mean 'batch_size'"),
    ("[trainer.optimizer]\nlearnig_rate = 1\n", r"\.optimizer: unknown setting 'learnig_rate'"),
    ("[trainer.optimizer]\nname = 'adamm'\n", "optimizer 'adamm' is invalid"),
    ("[trainer]\nparallel = 'fsdp'\n[trainer.optimizer]\nmoments = 'bfloat16'\n",
     "'fsdp' does not work with optimizer moments 'bfloat16'.*allowed with bfloat16 moments: "
     "ddp"),
])
def test_bad_trainer_settings_are_one_line_config_errors(tmp_path, text, message):
    with pytest.raises(ConfigError, match=message):
        apply_changes(TrainerConfig(), trainer_from_toml(_toml(tmp_path, text)))


def test_resume_uses_saved_settings_then_toml_then_command_line(tmp_path):
    _save(tmp_path, TrainerConfig(batch_size=6, iterations=50, seed=7, workers=1))
    toml = trainer_from_toml(_toml(tmp_path, "[trainer]\nseed = 8\nworkers = 0\n"))
    config = resolve_trainer_config(tmp_path, None, toml, {"workers": 3})
    assert (config.batch_size, config.seed, config.workers) == (6, 8, 3)
    assert config.iterations is None   # a run's length is never inherited


def test_python_train_without_a_config_resumes_with_the_saved_one(tmp_path):
    _save(tmp_path, TrainerConfig(batch_size=6))
    assert resolve_trainer_config(tmp_path).batch_size == 6
    assert resolve_trainer_config(tmp_path / "new").batch_size == TrainerConfig().batch_size
    explicit = TrainerConfig(batch_size=2)
    assert resolve_trainer_config(tmp_path, explicit) == explicit
