"""One trainer per model folder: an OS file lock held for the whole run.

Two trainers on one folder would remove each other's `checkpoint.tmp/` and could leave a
checkpoint mixed from both. `flock` is released by the OS on any exit, kill -9 included, so a
stale lock file never blocks the next run. A `--nproc` run is locked once, by the launching
process; it tells its workers so (`HELD_BY_PARENT`), and under plain torchrun rank 0 locks.
"""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from phaze.errors import ModelDirError
from phaze.storage.folder import ModelFolder

LOCK_FILE = ModelFolder.TRAIN_LOCK
HELD_BY_PARENT = "PHAZE_MODEL_LOCK_HELD"   # the lock file's path, set for a launcher's workers


def lock_path(model_dir: str | Path) -> Path:
    return Path(model_dir).resolve() / LOCK_FILE


@contextlib.contextmanager
def model_folder_lock(model_dir: str | Path) -> Iterator[None]:
    """Hold the folder's lock until the block ends; ModelDirError naming the holder's pid when
    another process holds it."""
    try:
        import fcntl
    except ImportError:   # no flock on this platform: run unlocked, as before
        yield
        return
    path = lock_path(model_dir)
    if os.environ.get(HELD_BY_PARENT) == str(path):
        yield   # a worker of a launcher that holds this very lock
        return
    created = not path.parent.exists()
    handle = _open(path)
    try:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(path)
            raise ModelDirError(
                f"model folder '{path.parent}' is in use by another trainer (pid {holder}): "
                "stop it or choose another --model-dir") from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        yield
    finally:
        if created and [p.name for p in path.parent.iterdir()] == [LOCK_FILE]:
            path.unlink(missing_ok=True)   # a run refused before writing anything leaves
            path.parent.rmdir()            # no folder behind
        handle.close()   # closing the file releases the lock


def _open(path: Path):
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return open(path, "a+", encoding="ascii")
    except OSError as error:
        raise ModelDirError(f"model folder '{path.parent}' cannot be used: "
                            f"{error.strerror or error}") from None


def _holder(path: Path) -> str:
    try:
        return path.read_text(encoding="ascii").strip() or "unknown"
    except OSError:
        return "unknown"


@contextlib.contextmanager
def lock_for_workers(model_dir: str | Path) -> Iterator[None]:
    """The launcher's lock, announced to the worker processes it starts (they inherit it)."""
    with model_folder_lock(model_dir):
        previous = os.environ.get(HELD_BY_PARENT)
        os.environ[HELD_BY_PARENT] = str(lock_path(model_dir))
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(HELD_BY_PARENT, None)
            else:
                os.environ[HELD_BY_PARENT] = previous
