"""One trainer per model folder: a second one gets one line naming the holder's pid; the lock
goes with its process, however that ends; a --nproc launcher's workers share its lock."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from contextlib import contextmanager

import pytest

from phaze.cli.main import main
from phaze.errors import ModelDirError
from phaze.train.model_lock import HELD_BY_PARENT, LOCK_FILE, lock_path, model_folder_lock

_HOLD = """
import sys
from phaze.train.model_lock import model_folder_lock
with model_folder_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


@contextmanager
def _holder(model_dir, env=None):
    """Another process holding the folder's lock until the block ends (or it is killed)."""
    process = subprocess.Popen([sys.executable, "-c", _HOLD, str(model_dir)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True,
                               env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path),
                                    **(env or {})},
                               start_new_session=True)
    try:
        assert process.stdout.readline().strip() == "held"
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_second_trainer_on_the_folder_is_one_line_naming_the_holder(tmp_path, capsys):
    model_dir = tmp_path / "model"
    with _holder(model_dir) as holder:
        code = main(["train", "--demo", "--model-dir", str(model_dir), "--iterations", "1"])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert f"pid {holder.pid}" in error and "in use by another trainer" in error
    assert sorted(p.name for p in model_dir.iterdir()) == [LOCK_FILE]   # nothing trained


def test_the_lock_goes_with_a_killed_holder(tmp_path):
    with _holder(tmp_path) as holder:
        with pytest.raises(ModelDirError):
            with model_folder_lock(tmp_path):
                pass
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
        with model_folder_lock(tmp_path):   # no stale lock after kill -9
            assert lock_path(tmp_path).read_text().strip() == str(os.getpid())


def test_workers_of_a_launcher_holding_the_lock_pass_and_others_do_not(tmp_path):
    with model_folder_lock(tmp_path):
        with _holder(tmp_path, env={HELD_BY_PARENT: str(lock_path(tmp_path))}):
            pass   # a worker started by this launcher: it runs
        with pytest.raises(AssertionError):
            with _holder(tmp_path):   # any other process: refused, so it never says "held"
                pass


def test_a_refused_run_leaves_no_new_folder(tmp_path):
    model_dir = tmp_path / "new"
    with pytest.raises(RuntimeError):
        with model_folder_lock(model_dir):
            raise RuntimeError("options refused")
    assert not model_dir.exists()
