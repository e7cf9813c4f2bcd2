"""`phaze train --coverage/--centering`: saved with the model, cropped at, and fixed on resume."""
from __future__ import annotations

import pytest

from phaze.cli.main import main
from phaze.config.parse import options_from_mapping
from phaze.config.presets import save_preset
from phaze.storage.framing_file import read_model_framing

FAST_FLAGS = ["--batch-size", "4", "--workers", "0", "--threads", "1", "--no-tensorboard",
              "--device", "cpu", "--iterations", "1"]


@pytest.fixture
def tiny_config(tmp_path, train_tiny):
    return save_preset(options_from_mapping(train_tiny), tmp_path / "tiny.toml", "tiny")


def _args(faces, model_dir, *extra) -> list[str]:
    return ["train", "--faces-a", str(faces[0]), "--faces-b", str(faces[1]),
            "--model-dir", str(model_dir), *extra]


def test_framing_is_saved_used_and_fixed_on_resume(tmp_path, synthetic_faces, tiny_config,
                                                   capsys) -> None:
    model_dir = tmp_path / "model"
    first = main(_args(synthetic_faces, model_dir, "--config", str(tiny_config),
                       "--coverage", "87.5", *FAST_FLAGS))
    assert first == 0
    assert read_model_framing(model_dir).coverage == pytest.approx(87.5)
    capsys.readouterr()

    refused = main(_args(synthetic_faces, model_dir, "--centering", "head", *FAST_FLAGS))
    assert refused == 2
    assert "centering 'face' → 'head'" in capsys.readouterr().err
    assert main(_args(synthetic_faces, model_dir, *FAST_FLAGS)) == 0  # unchanged: resumes
