"""Training runs started from the page: each is a separate `phaze train` process.

The process outlives the page (and the server): its id, command and log live in the model
folder (`ui_run.json`, `ui_train.log`), so a restarted server still sees and stops it. Stopping
sends SIGINT, which the trainer turns into "save, then exit", then SIGTERM if it has not ended
after a while (`StopPolicy`), and reports a run that still lives on. Progress comes from the files the
trainer writes anyway: the checkpoint's state.json (iteration, loss history), preview.png and
the progress lines in the log.
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from phaze.errors import ConfigError
from phaze.ui.folders import RUN_FILE

LOG_FILE = "ui_train.log"
START_LOCK_FILE = "ui_run.lock"
LOG_TAIL_CHARS = 4000
# The tqdm bar's postfix: "... 12/40 [00:03<00:07, 3.9it/s, loss A 0.1234 B 0.2345 | 12.3 EGs/s]"
_PROGRESS = re.compile(r"(\d+)(?:/\d+)?(?:it)? \[[^\]\r\n]*?loss A ([-\w.]+) B ([-\w.]+) \| "
                       r"([\d.]+) EGs/s\]")
# Any redraw of the bar: "training: 5it [" or "training:  10%|█ | 5/50 [" (every step).
_BAR = re.compile(r"training:[^\r\n]*?(\d+)(?:/\d+|it) \[")


@dataclass(frozen=True)
class TrainRequest:
    """What the train form sends; None keeps `phaze train`'s own default or saved setting."""

    model_dir: Path
    demo: bool = False
    faces_a: Path | None = None
    faces_b: Path | None = None
    preset: str | None = None           # a built-in preset name
    config: Path | None = None          # a preset / options file
    iterations: int | None = None
    batch_size: int | None = None
    save_interval: int | None = None
    preview_interval: int | None = None
    threads: int | None = None
    workers: int | None = None
    device: str | None = None

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "phaze", "train", "--model-dir", str(self.model_dir),
                   "--no-tensorboard"]
        if self.demo:
            command.append("--demo")
        for flag, value in (("--faces-a", self.faces_a), ("--faces-b", self.faces_b),
                            ("--preset", self.preset), ("--config", self.config),
                            ("--iterations", self.iterations),
                            ("--batch-size", self.batch_size),
                            ("--save-interval", self.save_interval),
                            ("--preview-interval", self.preview_interval),
                            ("--threads", self.threads), ("--workers", self.workers),
                            ("--device", self.device)):
            if value is not None:
                command += [flag, str(value)]
        return command


def _read_json(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)   # reap our own finished child
        if waited == pid:
            return False
    except ChildProcessError:
        pass                                      # not our child (server restarted)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():   # a reused process id is not our training run
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ")
        except OSError:
            return False
        return b"phaze" in text and b"train" in text and b"<defunct>" not in text
    return True


def running_pid(model_dir: Path) -> int | None:
    run = _read_json(model_dir / RUN_FILE)
    if not run or not isinstance(run.get("pid"), int):
        return None
    return run["pid"] if _alive(run["pid"]) else None


@contextlib.contextmanager
def _starting(model_dir: Path) -> Iterator[None]:
    """Held while checking for a run and starting one: parallel start requests (from one
    server or several) start one trainer, and the one that started is the one recorded."""
    with open(model_dir / START_LOCK_FILE, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def start_run(request: TrainRequest) -> dict[str, Any]:
    model_dir = request.model_dir
    model_dir.mkdir(parents=True, exist_ok=True)
    with _starting(model_dir):
        if running_pid(model_dir) is not None:
            raise ConfigError(f"model folder '{model_dir}' is already training")
        command = request.command()
        with open(model_dir / LOG_FILE, "ab") as log:
            log.write(f"\n$ {' '.join(command)}\n".encode())
            log.flush()
            env = dict(os.environ, PYTHONUNBUFFERED="1")
            # A new session: closing the page or stopping the server leaves the run alone.
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, env=env,
                                       start_new_session=True)
        run = {"pid": process.pid, "command": command, "started": time.time()}
        _write_run(model_dir, run)
    return run


def _write_run(model_dir: Path, run: dict[str, Any]) -> None:
    temp = model_dir / (RUN_FILE + ".tmp")
    temp.write_text(json.dumps(run), encoding="utf-8")
    os.replace(temp, model_dir / RUN_FILE)


@dataclass(frozen=True)
class StopPolicy:
    """How long Stop waits at each step before asking harder, then before giving up.

    The trainer stops after its current step and saves, which can take a while on a large
    model and a CPU: SIGTERM (which the trainer treats as SIGINT) only goes to a run that has
    not ended after `terminate_after_s`; one still alive `give_up_after_s` later is reported
    as stuck, with its pid, instead of being waited on forever.
    """

    terminate_after_s: float = 60.0
    give_up_after_s: float = 60.0
    poll_s: float = 0.2


def stop_run(model_dir: Path, policy: StopPolicy = StopPolicy()) -> bool:
    """SIGINT the run (it saves, then exits), escalating in the background; False when
    nothing was running."""
    pid = running_pid(model_dir)
    if pid is None:
        return False
    _record_stop(model_dir, pid, "stopping")
    os.kill(pid, signal.SIGINT)
    threading.Thread(target=_escalate, args=(model_dir, pid, policy), daemon=True,
                     name=f"stop-{pid}").start()
    return True


def _escalate(model_dir: Path, pid: int, policy: StopPolicy) -> None:
    if _ended_within(pid, policy.terminate_after_s, policy.poll_s):
        return
    _record_stop(model_dir, pid, "terminating")
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not _ended_within(pid, policy.give_up_after_s, policy.poll_s):
        _record_stop(model_dir, pid, "stuck")


def _ended_within(pid: int, seconds: float, poll_s: float) -> bool:
    deadline = time.monotonic() + seconds
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(poll_s)
    return True


def _record_stop(model_dir: Path, pid: int, state: str) -> None:
    run = _read_json(model_dir / RUN_FILE) or {}
    if run.get("pid") == pid:   # a new run started meanwhile keeps its own record
        _write_run(model_dir, dict(run, stop=state, stop_changed=time.time()))


def stop_state(model_dir: Path, pid: int | None) -> dict[str, Any] | None:
    """What the page says about a Stop in progress; None when none was asked for."""
    run = _read_json(model_dir / RUN_FILE) or {}
    if pid is None or run.get("pid") != pid or "stop" not in run:
        return None
    messages = {
        "stopping": "stopping: finishing the current step, then saving",
        "terminating": "still running after Stop: sent SIGTERM",
        "stuck": f"training process {pid} did not end after Stop and SIGTERM: end it with "
                 f"'kill -9 {pid}' (the last checkpoint is kept)"}
    return {"state": run["stop"], "pid": pid, "message": messages.get(run["stop"], "")}


def _log_text(model_dir: Path) -> str:
    path = model_dir / LOG_FILE
    try:
        with open(path, "rb") as file:
            file.seek(max(0, path.stat().st_size - 200_000))
            return file.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _readable_tail(text: str) -> str:
    """The log's last lines, each progress bar redraw (\\r) collapsed to its latest state."""
    lines = [line.rsplit("\r", 1)[-1] for line in text.replace("\r\n", "\n").split("\n")]
    return "\n".join(line for line in lines if line.strip())[-LOG_TAIL_CHARS:]


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def model_status(model_dir: Path) -> dict[str, Any]:
    """Everything the train page shows for one model folder."""
    from phaze.storage.checkpoint import MARKER

    state = _read_json(model_dir / "checkpoint" / "state.json") or {}
    text = _log_text(model_dir)
    # Only the latest run's progress: the log keeps every run.
    last_run = text.rsplit("\n$ ", 1)[-1]
    live = []
    for i, a, b, e in _PROGRESS.findall(last_run):
        # The bar redraws keep showing the last report: one point per report, at its first draw.
        if not live or live[-1][1:] != (_number(a), _number(b), float(e)):
            live.append((int(i), _number(a), _number(b), float(e)))
    preview = model_dir / "preview.png"
    pid = running_pid(model_dir)
    latest = live[-1] if live else None
    bar = _BAR.findall(last_run)
    bar_iteration = int(bar[-1]) if bar else 0
    return {
        "path": str(model_dir), "name": model_dir.name,
        "is_model": (model_dir / MARKER).is_file(),
        "running": pid is not None, "pid": pid, "stop": stop_state(model_dir, pid),
        "checkpoint_iteration": state.get("iteration"),
        "iteration": max(bar_iteration, latest[0] if latest else 0, state.get("iteration") or 0),
        "egs_per_sec": latest[3] if latest else None,
        "loss_history": state.get("loss_history", []),
        "live_losses": [{"iteration": i, "a": a, "b": b} for i, a, b, _ in live],
        "preview_mtime": preview.stat().st_mtime if preview.is_file() else None,
        "log_tail": _readable_tail(text),
    }
