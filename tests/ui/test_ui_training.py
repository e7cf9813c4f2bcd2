"""Start, watch, stop (which saves) and resume a real `phaze train` process from the API."""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from ui_helpers import tiny_run, wait_for

from phaze.ui.folders import RUN_FILE
from phaze.ui.training import StopPolicy, model_status, stop_run


@contextlib.contextmanager
def sigint_ignored():
    """As in a server started in the background by a script: its children inherit SIGINT
    ignored, and Python in them installs no KeyboardInterrupt handler of its own."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _status(client, model_dir) -> dict:
    response = client.get("/api/model", params={"path": str(model_dir)})
    assert response.status_code == 200
    return response.json()


def test_start_stop_resume(train_client, ui_folder, synthetic_faces):
    client, model_dir = train_client, ui_folder / "model"
    with sigint_ignored():   # Stop must still stop it (and save)
        started = client.post("/api/train/start", json=tiny_run(model_dir, synthetic_faces))
    assert started.status_code == 200, started.text
    assert "--config" in started.json()["command"]

    # Live progress from the log (losses and EGs/s: see the log test below and the browser
    # test), the preview file, and the folder list.
    live = wait_for(lambda: (s := _status(client, model_dir))["iteration"] >= 2
                    and s["preview_mtime"] and s)
    assert live["running"] and live["checkpoint_iteration"] is None
    assert client.get("/api/preview", params={"path": str(model_dir)}).content[:4] == b"\x89PNG"
    listed = client.get("/api/folders").json()["models"]
    assert [m["path"] for m in listed] == [str(model_dir)] and listed[0]["running"]
    again = client.post("/api/train/start", json=tiny_run(model_dir, synthetic_faces))
    assert again.status_code == 400 and "already training" in again.json()["error"]

    assert client.post("/api/train/stop", json={"model_dir": str(model_dir)}).json()["stopping"]
    assert _status(client, model_dir)["stop"]["state"] in ("stopping", None)
    stopped = wait_for(lambda: not (s := _status(client, model_dir))["running"] and s)
    saved_at = stopped["checkpoint_iteration"]
    assert saved_at >= 2 and stopped["loss_history"][-1]["iteration"] == saved_at
    assert "interrupted at iteration" in stopped["log_tail"]

    # Resume: only the folder and a length; the saved design and settings are reused.
    resumed = client.post("/api/train/start", json={
        "model_dir": str(model_dir), "faces_a": str(synthetic_faces[0]),
        "faces_b": str(synthetic_faces[1]), "iterations": 2, "threads": 1, "workers": 0})
    assert resumed.status_code == 200, resumed.text
    done = wait_for(lambda: not (s := _status(client, model_dir))["running"]
                    and s["checkpoint_iteration"] != saved_at and s)
    assert done["checkpoint_iteration"] == saved_at + 2
    assert not client.post("/api/train/stop", json={"model_dir": str(model_dir)}).json()["stopping"]


def test_progress_is_read_from_the_bar_redraws_in_the_log(tmp_path):
    from phaze.ui.training import LOG_FILE, model_status

    (tmp_path / LOG_FILE).write_text(
        "\n$ old run\ntraining: 90it [00:09, loss A 9.0 B 9.0 | 1.0 EGs/s]\n"
        "\n$ phaze train\nINFO training on cpu\n"
        "training: 5it [00:01, 3.2it/s]\rtraining: 10it [00:02, 3.2it/s, loss A 0.5 B 0.25 "
        "| 12.5 EGs/s]\rtraining: 11it [00:02, 3.2it/s, loss A 0.5 B 0.25 | 12.5 EGs/s]"
        "\rtraining: 12it [00:03, 3.2it/s, loss A 0.5 B 0.25 | 12.5 EGs/s]")
    status = model_status(tmp_path)
    assert status["iteration"] == 12 and status["egs_per_sec"] == 12.5
    assert status["live_losses"] == [{"iteration": 10, "a": 0.5, "b": 0.25}]
    assert not status["running"] and not status["is_model"]
    assert status["log_tail"].endswith("training: 12it [00:03, 3.2it/s, loss A 0.5 B 0.25 | "
                                       "12.5 EGs/s]")
    assert "5it" not in status["log_tail"]


def test_parallel_starts_start_one_trainer(train_client, ui_folder, synthetic_faces):
    client, model_dir = train_client, ui_folder / "model"
    answers = []

    def start():
        answers.append(client.post("/api/train/start", json=tiny_run(model_dir, synthetic_faces)))

    threads = [threading.Thread(target=start) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        codes = sorted(answer.status_code for answer in answers)
        assert codes == [200, 400, 400, 400], [answer.text for answer in answers]
        started = next(a.json() for a in answers if a.status_code == 200)
        assert json.loads((model_dir / RUN_FILE).read_text())["pid"] == started["pid"]
    finally:
        client.post("/api/train/stop", json={"model_dir": str(model_dir)})
        wait_for(lambda: not _status(client, model_dir)["running"])


# A stand-in for a trainer that ignores the signals it is asked to stop with: its file name
# holds "phaze" and "train", as the page's liveness check expects of a training process.
STUBBORN = """
import signal, sys, time
for name in sys.argv[1:]:
    signal.signal(getattr(signal, name), signal.SIG_IGN)
print("ready", flush=True)
time.sleep(120)
"""


@pytest.fixture
def stubborn_run(tmp_path: Path):
    def start(*ignored: str) -> subprocess.Popen:
        script = tmp_path / "phaze_train_stand_in.py"
        script.write_text(STUBBORN)
        process = subprocess.Popen([sys.executable, str(script), *ignored],
                                   stdout=subprocess.PIPE, text=True, start_new_session=True)
        started.append(process)
        assert process.stdout.readline().strip() == "ready"
        (tmp_path / RUN_FILE).write_text(json.dumps({"pid": process.pid, "command": []}))
        return process

    started: list[subprocess.Popen] = []
    yield start
    for process in started:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


QUICK = StopPolicy(terminate_after_s=0.5, give_up_after_s=0.5, poll_s=0.05)


def test_stop_escalates_to_sigterm_when_sigint_is_ignored(tmp_path, stubborn_run):
    process = stubborn_run("SIGINT")

    assert stop_run(tmp_path, QUICK)
    wait_for(lambda: not model_status(tmp_path)["running"], timeout_s=30)
    # The page reaps its own child, so the exit status is gone: the record says what ended it.
    assert json.loads((tmp_path / RUN_FILE).read_text())["stop"] == "terminating"
    assert process.pid == json.loads((tmp_path / RUN_FILE).read_text())["pid"]


def test_a_run_that_ignores_every_stop_is_reported_with_its_pid(tmp_path, stubborn_run):
    process = stubborn_run("SIGINT", "SIGTERM")

    assert stop_run(tmp_path, QUICK)
    stuck = wait_for(lambda: (s := model_status(tmp_path)["stop"]) and s["state"] == "stuck"
                     and s, timeout_s=30)
    assert stuck["pid"] == process.pid and f"kill -9 {process.pid}" in stuck["message"]
    assert process.poll() is None
