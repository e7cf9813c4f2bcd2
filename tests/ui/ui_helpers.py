"""Helpers shared by the UI tests (a plain module: conftest.py is not importable by name)."""
from __future__ import annotations

from pathlib import Path


def tiny_run(model_dir: Path, faces: tuple[Path, Path], **changes) -> dict:
    """The train form's fields for a fast run of the tiny design on the synthetic faces."""
    return dict({"model_dir": str(model_dir), "faces_a": str(faces[0]), "faces_b": str(faces[1]),
                 "config": "tiny.toml", "batch_size": 4, "save_interval": 1000,
                 "preview_interval": 2, "threads": 1, "workers": 0}, **changes)


def wait_for(check, timeout_s: float = 120.0, every_s: float = 0.25):
    """Poll `check()` until it returns something truthy (a generous limit: CI is slow)."""
    import time

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(every_s)
    raise AssertionError(f"still waiting after {timeout_s} s")
