"""A test client of the UI app (token cookie set), its folder, and the tiny training design."""
from __future__ import annotations

from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the ui extra (fastapi, uvicorn, httpx) is not installed")

PORT = 8765
TOKEN = "test-token"
BASE_URL = f"http://127.0.0.1:{PORT}"


@pytest.fixture()
def ui_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    return folder


@pytest.fixture()
def client(ui_folder: Path):
    from fastapi.testclient import TestClient

    from phaze.ui.app import create_app

    app = create_app([ui_folder], TOKEN, "127.0.0.1", PORT)
    with TestClient(app, base_url=BASE_URL) as test_client:
        assert test_client.get(f"/?token={TOKEN}").status_code == 200   # sets the cookie
        yield test_client


@pytest.fixture()
def bare_client(ui_folder: Path):
    """A client that has not opened the token URL (no cookie)."""
    from fastapi.testclient import TestClient

    from phaze.ui.app import create_app

    return TestClient(create_app([ui_folder], TOKEN, "127.0.0.1", PORT), base_url=BASE_URL)
