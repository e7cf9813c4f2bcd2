"""Ctrl-C and SIGTERM stop a `phaze train` process after its current step, saving first, also
when it was started with SIGINT ignored (as a background job of a script is)."""
from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from phaze.storage.checkpoint import load_checkpoint
from phaze.config.parse import options_from_mapping
from phaze.train.loop import train
from phaze.train.stop import StopRequest, stop_requests


def _config(path: Path, design: dict, workers: int) -> Path:
    settings = {"batch_size": 4, "save_interval": 1000, "preview_interval": 1000,
                "log_interval": 1, "preview_faces": 2, "workers": workers, "device": "cpu",
                "tensorboard": False, "threads": 1, "mixed_precision": "off"}
    lines = [f"{name} = {json.dumps(value)}" for name, value in design.items()]
    lines += ["[trainer]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        with contextlib.suppress(OSError, ValueError, IndexError):
            if entry.name.isdigit() and int(
                    (entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


@pytest.fixture
def training_process(tmp_path, synthetic_faces, train_tiny):
    """`phaze train` without an iteration limit, started with SIGINT ignored; waits until it
    has trained a few steps. Yields (process, model_dir)."""
    processes: list[subprocess.Popen] = []

    def start(workers: int = 0) -> tuple[subprocess.Popen, Path]:
        model_dir = tmp_path / "model"
        command = [sys.executable, "-m", "phaze", "train", "--model-dir", str(model_dir),
                   "--faces-a", str(synthetic_faces[0]), "--faces-b", str(synthetic_faces[1]),
                   "--config", str(_config(tmp_path / "tiny.toml", train_tiny, workers)),
                   "--no-tensorboard"]
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            start_new_session=True, env=dict(os.environ, PYTHONUNBUFFERED="1"),
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
        processes.append(process)
        seen = ""
        while max(map(int, re.findall(r"(\d+)it \[", seen)), default=0) < 3:
            chunk = process.stdout.read(1)
            assert chunk, f"phaze train ended before training: {seen[-2000:]}"
            seen += chunk
        return process, model_dir

    yield start
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_stop_signal_saves_then_exits_even_if_sigint_was_ignored(training_process, sig):
    process, model_dir = training_process()

    process.send_signal(sig)
    output, _ = process.communicate(timeout=120)

    assert process.returncode == 0, output
    assert f"{sig.name} received: stopping after the current step" in output
    assert "interrupted at iteration" in output
    saved = load_checkpoint(model_dir).state.iteration
    assert saved >= 3 and f"stopped (interrupted) at iteration {saved}" in output


def test_loader_workers_end_with_the_run(training_process):
    process, _ = training_process(workers=2)
    workers = _children(process.pid)
    assert len(workers) >= 2

    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=120)

    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(Path(f"/proc/{pid}").exists() for pid in workers)


def test_a_second_signal_does_not_cut_the_step_short():
    request = StopRequest()
    request.handle(signal.SIGINT, None)
    request.handle(signal.SIGTERM, None)

    assert request.requested and request.signal_name == "SIGINT"


def test_handlers_are_restored_after_training(tmp_path, synthetic_faces, train_tiny,
                                              fast_trainer):
    before = signal.getsignal(signal.SIGTERM)
    with stop_requests() as request:
        assert signal.getsignal(signal.SIGTERM) == request.handle
    train(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
          fast_trainer(iterations=1))

    assert signal.getsignal(signal.SIGTERM) == before
