"""Start, watch, stop (which saves) and resume a real `phaze train` process from the API."""
from __future__ import annotations

from ui_helpers import tiny_run, wait_for


def _status(client, model_dir) -> dict:
    response = client.get("/api/model", params={"path": str(model_dir)})
    assert response.status_code == 200
    return response.json()


def test_start_stop_resume(train_client, ui_folder, synthetic_faces):
    client, model_dir = train_client, ui_folder / "model"
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
