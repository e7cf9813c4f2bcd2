"""A checkpoint save that fails (disk full) stops with one clear error and keeps the old one."""
import errno

import pytest
import torch

from phaze.storage import checkpoint as checkpoint_module
from phaze.storage.checkpoint import TEMP, TrainingState, load_checkpoint, save_checkpoint
from phaze.errors import SaveError


def _weights(value: float) -> dict[str, torch.Tensor]:
    return {"layer.weight": torch.full((512, 512), value)}   # 1 MiB


def test_a_full_disk_mid_save_is_one_clear_error_and_the_previous_checkpoint_loads(
        tmp_path, monkeypatch):
    save_checkpoint(tmp_path, _weights(1.0), TrainingState(iteration=3))
    real_save = checkpoint_module.save_file

    def fill_disk(tensors, path):
        real_save(tensors, path)  # a partial file is on disk when the error comes
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(checkpoint_module, "save_file", fill_disk)
    with pytest.raises(SaveError) as caught:
        save_checkpoint(tmp_path, _weights(2.0), TrainingState(iteration=4),
                        optimizer={"state": {}, "param_groups": []})

    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path) in message and "No space left on device" in message
    assert "needs about 1.0 MiB" in message and "MiB free" in message
    assert not (tmp_path / TEMP).exists()
    restored = load_checkpoint(tmp_path)
    assert restored.state.iteration == 3
    assert float(restored.weights["layer.weight"][0, 0]) == 1.0


def test_a_read_only_folder_is_a_save_error_not_a_traceback(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(checkpoint_module, "save_file", refuse)
    with pytest.raises(SaveError, match="could not save the checkpoint in .*Permission denied"):
        save_checkpoint(tmp_path, _weights(1.0), TrainingState(iteration=1))
    assert not (tmp_path / TEMP).exists()
    assert load_checkpoint(tmp_path) is None


def test_a_full_disk_reported_by_safetensors_itself_is_one_line_and_leaves_no_temp(
        tmp_path, monkeypatch):
    from safetensors import SafetensorError

    save_checkpoint(tmp_path, _weights(1.0), TrainingState(iteration=3))
    real_save, calls = checkpoint_module.save_file, []

    def fill_disk_at_second_write(tensors, path):
        calls.append(path)
        if len(calls) >= 2:   # weights written, the optimizer file finds the disk full
            real_save(tensors, path)
            raise SafetensorError('Error while serializing: IoError(Os { code: 28, kind: '
                                  'StorageFull, message: "No space left on device" })')
        return real_save(tensors, path)

    monkeypatch.setattr(checkpoint_module, "save_file", fill_disk_at_second_write)
    with pytest.raises(SaveError) as caught:
        save_checkpoint(tmp_path, _weights(2.0), TrainingState(iteration=4),
                        optimizer={"state": {}, "param_groups": []})

    message = str(caught.value)
    assert "\n" not in message and "No space left on device" in message
    assert str(tmp_path) in message
    assert not (tmp_path / TEMP).exists()
    assert load_checkpoint(tmp_path).state.iteration == 3
