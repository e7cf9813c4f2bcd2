"""`phaze ui` prints a URL with a token; that URL works and the bare address does not."""
from __future__ import annotations

import subprocess
import sys

import httpx


def test_phaze_ui_prints_a_working_token_url(tmp_path):
    process = subprocess.Popen([sys.executable, "-m", "phaze", "ui", "--folder", str(tmp_path)],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("Phaze UI: http://127.0.0.1:"), line
        url = line.removeprefix("Phaze UI: ")
        base, _, token = url.partition("/?token=")
        assert len(token) >= 24
        assert httpx.get(url, timeout=30).status_code == 200
        assert httpx.get(base + "/api/schema", timeout=30).status_code == 403
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_phaze_ui_refuses_a_missing_folder(tmp_path, capsys):
    from phaze.cli.main import main

    assert main(["ui", "--folder", str(tmp_path / "nope")]) == 2
    assert "is not a folder" in capsys.readouterr().err
