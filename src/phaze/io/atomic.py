"""The one atomic file write: a reader sees the old file or the new one, never half of one.

The data goes to a temp file in the target's folder (a rename is atomic only within one file
system), is fsynced (so a power cut after the rename cannot leave an empty file) and then
replaces the target with os.replace. A failed write or Ctrl-C removes the temp file.
"""
from __future__ import annotations

import errno
import os
import secrets
from pathlib import Path
from typing import Callable, Union

from phaze.errors import PhazeError, SaveError

# O_BINARY: Windows would otherwise translate newlines in the bytes written.
_CREATE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
# Bytes, text (written as UTF-8), or a function that writes the file at the path it is given
# (safetensors' save_file, an image or ONNX writer that cannot write to an open handle).
Content = Union[bytes, str, Callable[[Path], object]]


def atomic_write(path: str | Path, content: Content,
                 error: type[PhazeError] = SaveError) -> Path:
    """Write `content` to `path` atomically; a failed write raises `error` with one line.

    A writer function gets a temp path that ends in the target's suffix, for libraries that
    choose the format by suffix; an error it raises that is not about the disk passes through.
    """
    path = Path(path)
    if isinstance(content, str):
        content = content.encode("utf-8")
    try:
        handle, temp = _create_temp(path, ".tmp" + (path.suffix if callable(content) else ""))
    except OSError as failure:
        raise error(write_failure(path, failure)) from None
    try:
        if callable(content):
            os.close(handle)
            content(temp)
            fsync_file(temp)
        else:
            _write_file(handle, content)
        os.replace(temp, path)
    except BaseException as failure:
        temp.unlink(missing_ok=True)   # Ctrl-C or a full disk mid-write: leave nothing behind
        message = write_failure(path, failure)
        if isinstance(failure, OSError) or message.endswith("No space left on device"):
            raise error(message) from None   # safetensors' full-disk error is no OSError
        raise
    return path


def _create_temp(path: Path, suffix: str) -> tuple[int, Path]:
    """A new, empty temp file beside `path`, open for writing. Unlike tempfile.mkstemp (mode
    0600) it gets the permissions any new file gets (0666 less the umask), as a plain write
    would give the target."""
    for _ in range(100):
        temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}{suffix}")
        try:
            return os.open(temp, _CREATE_FLAGS, 0o666), temp
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temp file name", str(path.parent))


def _write_file(handle: int, data: bytes) -> None:
    """Write, fsync and close an open descriptor (one seam where tests make the disk full)."""
    with os.fdopen(handle, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())


def fsync_file(path: Path) -> None:
    with open(path, "rb") as file:
        os.fsync(file.fileno())


def fsync_folder(path: Path) -> None:
    """Make renames inside `path` durable (no-op where folders cannot be opened: Windows)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_failure(path: str | Path, error: BaseException) -> str:
    """One line for a failed write of `path` (see `write_reason`)."""
    return f"could not write '{path}': {write_reason(error)}"


def write_reason(error: BaseException) -> str:
    """Why a write failed; a full disk is said plainly, whichever library reported it (an
    OSError's errno, safetensors' or FFmpeg's own error text)."""
    text = str(error)
    if getattr(error, "errno", None) == errno.ENOSPC or "No space left" in text \
            or "StorageFull" in text:
        return "No space left on device"
    return getattr(error, "strerror", None) or text or type(error).__name__
