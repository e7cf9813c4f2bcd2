"""`phaze train` on the command line: flags reach the trainer, user errors are one line."""
from __future__ import annotations

import json

import pytest

from phaze.storage.checkpoint import load_checkpoint, read_options
from phaze.cli.main import build_parser, main
from phaze.cli.train import request_from_args
from phaze.train.settings import requested_options, requested_trainer
from phaze.config.parse import options_from_mapping
from phaze.config.presets import save_preset

FAST_FLAGS = ["--batch-size", "4", "--workers", "0", "--threads", "1", "--no-tensorboard",
              "--learning-rate", "1e-3", "--device", "cpu"]


@pytest.fixture
def tiny_config(tmp_path, train_tiny):
    return save_preset(options_from_mapping(train_tiny), tmp_path / "tiny.toml", "tiny")


def _train_args(faces, model_dir, *extra) -> list[str]:
    return ["train", "--faces-a", str(faces[0]), "--faces-b", str(faces[1]),
            "--model-dir", str(model_dir), *extra]


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    errors = [line for line in err if line.startswith("phaze: error:")]
    assert len(errors) == 1, err
    return errors[0]


def test_a_bad_set_value_is_one_line_and_exit_code_2(tmp_path, synthetic_faces, capsys):
    code = main(_train_args(synthetic_faces, tmp_path / "model", "--preset", "demo",
                            "--set", "bottleneck_size=7"))

    assert code == 2
    assert "bottleneck_size" in _one_error_line(capsys)
    assert not (tmp_path / "model").exists()


def test_an_unknown_set_option_is_one_line_and_exit_code_2(tmp_path, synthetic_faces, capsys):
    code = main(_train_args(synthetic_faces, tmp_path / "model", "--preset", "demo",
                            "--set", "bottleneck_sise=256"))

    assert code == 2
    assert "did you mean 'bottleneck_size'" in _one_error_line(capsys)


def test_missing_face_folders_are_a_clear_error(tmp_path, capsys):
    code = main(["train", "--model-dir", str(tmp_path / "model"), "--preset", "demo"])

    assert code == 2
    assert "--faces-a" in _one_error_line(capsys)


def test_a_bad_trainer_value_is_a_clear_error(tmp_path, synthetic_faces, capsys):
    code = main(_train_args(synthetic_faces, tmp_path / "model", "--preset", "demo",
                            "--batch-size", "999"))

    assert code == 2
    assert "batch_size" in _one_error_line(capsys)


@pytest.mark.parametrize("table, extra, phrase", [
    ('[trainer.optimizer]\nclipping = "autoclip"\n', [], "'autoclip' needs every gradient"),
    ("", ["--nproc", "2"], "across the 2 processes"),
], ids=["global-clipping", "processes"])
def test_optimizer_in_backward_where_it_cannot_run_is_one_line_and_writes_nothing(
        tmp_path, synthetic_faces, capsys, table, extra, phrase):
    config = tmp_path / "trainer.toml"
    config.write_text("[trainer.speed]\noptimizer_in_backward = true\n" + table)
    code = main(_train_args(synthetic_faces, tmp_path / "model", "--preset", "demo",
                            "--config", str(config), *FAST_FLAGS, *extra))

    assert code == 2
    assert phrase in _one_error_line(capsys)
    assert not (tmp_path / "model").exists()


def test_train_then_resume_from_the_command_line(tmp_path, synthetic_faces, tiny_config,
                                                 capsys):
    model_dir = tmp_path / "model"

    first = main(_train_args(synthetic_faces, model_dir, "--config", str(tiny_config),
                             "--iterations", "2", *FAST_FLAGS))
    out = capsys.readouterr().out
    second = main(_train_args(synthetic_faces, model_dir, "--iterations", "1",
                              "--set", "fc_dropout=0.2", "--no-tensorboard"))

    assert first == 0 and second == 0
    assert "preview.png" in out
    saved = load_checkpoint(model_dir)
    assert saved.state.iteration == 3
    assert saved.state.trainer["batch_size"] == 4        # inherited from the first run
    assert saved.state.trainer["threads"] == 1
    assert read_options(model_dir).fc_dropout == pytest.approx(0.2)


def test_resume_with_a_conflicting_set_names_the_option(tmp_path, synthetic_faces,
                                                        tiny_config, capsys):
    model_dir = tmp_path / "model"
    main(_train_args(synthetic_faces, model_dir, "--config", str(tiny_config),
                     "--iterations", "1", *FAST_FLAGS))
    capsys.readouterr()

    code = main(_train_args(synthetic_faces, model_dir, "--set", "output_size=128"))

    assert code == 2
    line = _one_error_line(capsys)
    assert "output_size" in line and "saved: 64" in line


def test_trainer_flags_reach_the_trainer_config(tmp_path):
    args = build_parser().parse_args([
        "train", "--model-dir", str(tmp_path / "m"), "--batch-size", "8", "--iterations", "30",
        "--save-interval", "10", "--preview-interval", "5", "--snapshot-interval", "0",
        "--learning-rate", "1e-4", "--optimizer", "lion", "--losses", "mae:2,ms_ssim:1",
        "--mixed-precision", "off", "--warmup", "7", "--clipping", "autoclip",
        "--workers", "3", "--seed", "5", "--device", "cpu"])

    config = requested_trainer(request_from_args(args))

    assert (config.batch_size, config.iterations, config.save_interval,
            config.preview_interval, config.snapshot_interval) == (8, 30, 10, 5, 0)
    assert (config.optimizer.name, config.optimizer.learning_rate, config.optimizer.warmup_steps,
            config.optimizer.clipping) == ("lion", 1e-4, 7, "autoclip")
    assert [(s.name, s.weight) for s in config.losses.functions] == [("mae", 2.0),
                                                                     ("ms_ssim", 1.0)]
    assert (config.mixed_precision, config.workers, config.seed, config.device) == (
        "off", 3, 5, "cpu")
    json.dumps(config.to_dict())  # what a checkpoint stores must be plain JSON


def test_demo_flag_uses_the_demo_settings(tmp_path):
    from phaze.train.demo import demo_trainer

    args = build_parser().parse_args(["train", "--demo", "--model-dir", str(tmp_path / "m")])

    assert requested_trainer(request_from_args(args)) == demo_trainer()


def test_demo_refuses_face_folders(tmp_path, synthetic_faces, capsys):
    code = main(["train", "--demo", "--model-dir", str(tmp_path / "m"),
                 "--faces-a", str(synthetic_faces[0])])

    assert code == 2
    assert "--demo" in _one_error_line(capsys)


def test_moments_flag_reaches_the_optimizer_config(tmp_path):
    args = build_parser().parse_args([
        "train", "--model-dir", str(tmp_path / "m"), "--optimizer", "adamw",
        "--moments", "bfloat16"])

    config = requested_trainer(request_from_args(args))

    assert (config.optimizer.name, config.optimizer.moments) == ("adamw", "bfloat16")


def test_a_config_of_only_trainer_tables_keeps_the_model_it_would_have(tmp_path):
    from phaze.config.presets import resolve_options
    from phaze.train.demo import DEMO_PRESET

    config = tmp_path / "trainer.toml"
    config.write_text("[trainer]\nbatch_size = 4\n[trainer.speed]\n"
                      "activation_checkpointing = true\n")
    args = build_parser().parse_args(["train", "--demo", "--model-dir", str(tmp_path / "m"),
                                      "--config", str(config)])

    assert requested_options(request_from_args(args)) == resolve_options(DEMO_PRESET)   # not the defaults
    trainer = requested_trainer(request_from_args(args))
    assert trainer.batch_size == 4 and trainer.speed.activation_checkpointing


def test_every_trainer_flag_comes_from_a_settings_field():
    from phaze.train.config import TrainerConfig
    from phaze.train.settings import trainer_flags

    flags = trainer_flags()
    parser_flags = {option for action in build_parser()._subparsers._group_actions[0]
                    .choices["train"]._actions for option in action.option_strings}
    assert {item.flag for item in flags} <= parser_flags
    assert len({item.flag for item in flags}) == len(flags) == 27
    defaults = TrainerConfig()
    for item in flags:   # each path names a real setting
        value = defaults
        for name in item.path:
            value = getattr(value, name)
