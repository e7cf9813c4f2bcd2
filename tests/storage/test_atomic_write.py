"""atomic_write: the whole file or the old one, never half of one, and no temp file left over."""
from __future__ import annotations

import errno
import os

import pytest

from hostile_helpers import full_disk_from_write
from phaze.errors import DataError, SaveError
from phaze.faces.framing import Framing
from phaze.io.atomic import atomic_write
from phaze.storage.folder import ModelFolder


def _leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".tmp" in p.name)


def test_bytes_and_text_replace_the_file_whole(tmp_path) -> None:
    path = tmp_path / "notes.txt"
    atomic_write(path, b"old")
    assert atomic_write(path, "new ✓") == path
    assert path.read_text(encoding="utf-8") == "new ✓"
    assert _leftovers(tmp_path) == []


def test_a_writer_function_gets_a_temp_path_with_the_target_suffix(tmp_path) -> None:
    seen = []

    def write(temp) -> None:
        seen.append(temp)
        temp.write_bytes(b"\x89PNG")

    path = atomic_write(tmp_path / "preview.png", write)
    assert path.read_bytes() == b"\x89PNG"
    assert seen[0].parent == tmp_path and seen[0].suffix == ".png" and seen[0] != path
    assert _leftovers(tmp_path) == []


def test_a_full_disk_keeps_the_old_file_and_removes_the_temp(tmp_path, monkeypatch) -> None:
    path = tmp_path / "options.json"
    atomic_write(path, "old")
    full_disk_from_write(monkeypatch, count=1)
    with pytest.raises(SaveError, match="could not write .*options.json.*No space left"):
        atomic_write(path, "new")
    assert path.read_text() == "old"
    assert _leftovers(tmp_path) == []


def test_the_error_type_is_the_callers(tmp_path, monkeypatch) -> None:
    full_disk_from_write(monkeypatch, count=1)
    with pytest.raises(DataError):
        atomic_write(tmp_path / "face.png", b"data", error=DataError)


def test_a_writer_functions_own_error_passes_through_and_leaves_nothing(tmp_path) -> None:
    def broken(temp) -> None:
        temp.write_bytes(b"half")
        raise ValueError("bad option")

    with pytest.raises(ValueError, match="bad option"):
        atomic_write(tmp_path / "model.onnx", broken)
    assert list(tmp_path.iterdir()) == []


def test_a_library_reporting_a_full_disk_in_its_own_words_is_a_save_error(tmp_path) -> None:
    def safetensors_full(temp) -> None:
        temp.write_bytes(b"half")
        raise RuntimeError("IoError(Os { code: 28, kind: StorageFull })")

    with pytest.raises(SaveError, match="No space left on device"):
        atomic_write(tmp_path / "weights.safetensors", safetensors_full)
    assert list(tmp_path.iterdir()) == []


def test_ctrl_c_mid_write_leaves_nothing(tmp_path) -> None:
    def interrupted(temp) -> None:
        temp.write_bytes(b"half")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(tmp_path / "a.json", interrupted)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_folder_is_one_clear_error(tmp_path) -> None:
    with pytest.raises(SaveError, match="could not write .*missing/a.json"):
        atomic_write(tmp_path / "missing" / "a.json", "x")


def test_framing_on_a_full_disk_leaves_no_temp_file(tmp_path, monkeypatch) -> None:
    folder = ModelFolder(tmp_path)
    folder.write_framing(Framing("face", 87.5))
    full_disk_from_write(monkeypatch, count=1)
    with pytest.raises(SaveError, match="framing.json.*No space left on device"):
        folder.write_framing(Framing("head", 100.0))
    assert folder.read_framing() == Framing("face", 87.5)
    assert _leftovers(tmp_path) == []


def test_a_preset_is_saved_atomically(tmp_path, monkeypatch) -> None:
    from phaze.config.options import PhazeAOptions
    from phaze.config.presets import save_preset

    path = save_preset(PhazeAOptions(), tmp_path / "mine.toml", "first")
    before = path.read_text()

    def full(handle, data) -> None:
        os.close(handle)
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("phaze.io.atomic._write_file", full)
    with pytest.raises(SaveError, match="mine.toml.*No space left"):
        save_preset(PhazeAOptions(output_size=256), path, "second")
    assert path.read_text() == before
    assert _leftovers(tmp_path) == []


def test_a_new_file_gets_the_usual_permissions_not_a_temp_files(tmp_path) -> None:
    umask = os.umask(0o022)
    try:
        path = atomic_write(tmp_path / "phaze.json", "{}")
    finally:
        os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o644
