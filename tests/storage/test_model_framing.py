"""Model framing: saved with the model, read back, defaults for old folders, fixed on resume."""
from __future__ import annotations

import json

import pytest

from phaze.errors import ConfigError, ModelDirError
from phaze.faces.framing import Framing
from phaze.storage.framing_file import FRAMING_FILE, framing_for_training, read_model_framing


def test_new_model_saves_its_framing_and_reads_it_back(tmp_path) -> None:
    framing = Framing("head", 87.5, 10.0)
    assert framing_for_training(tmp_path, framing, resuming=False) == framing
    assert json.loads((tmp_path / FRAMING_FILE).read_text()) == {
        "centering": "head", "coverage": 87.5, "vertical_offset": 10.0}
    assert read_model_framing(tmp_path) == framing
    assert not (tmp_path / (FRAMING_FILE + ".tmp")).exists()


def test_folder_without_framing_reads_as_training_defaults(tmp_path) -> None:
    assert read_model_framing(tmp_path) == Framing("face", 100.0, 0.0)


def test_resume_with_another_centering_is_refused(tmp_path) -> None:
    framing_for_training(tmp_path, Framing("face"), resuming=False)
    with pytest.raises(ModelDirError, match="centering 'face' → 'head'"):
        framing_for_training(tmp_path, Framing("head"), resuming=True)
    assert framing_for_training(tmp_path, None, resuming=True) == Framing("face")


def test_bad_values_name_the_value_and_the_range() -> None:
    with pytest.raises(ConfigError, match="'coverage' = 50 is invalid: expected a number from 62.5 to 100"):
        Framing(coverage=50)
    with pytest.raises(ConfigError, match="'centering' = 'chin'"):
        Framing(centering="chin")


def test_imported_framing_with_extra_keys_reads_back(tmp_path) -> None:
    (tmp_path / FRAMING_FILE).write_text(
        '{"centering": "face", "coverage": 87.5, "imported_from": {"tool": "faceswap"}}')
    assert read_model_framing(tmp_path) == Framing("face", 87.5, 0.0)


def test_damaged_framing_file_is_a_model_dir_error(tmp_path) -> None:
    (tmp_path / FRAMING_FILE).write_text('{"centering": "chin", "coverage": 100}')
    with pytest.raises(ModelDirError, match="framing.json"):
        read_model_framing(tmp_path)
