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


@pytest.fixture()
def train_client(ui_folder: Path, synthetic_faces, train_tiny):
    """A client whose folders hold the synthetic faces, with the tiny design saved as tiny.toml."""
    from fastapi.testclient import TestClient

    from phaze.ui.app import create_app

    faces_root = synthetic_faces[0].parent
    app = create_app([ui_folder, faces_root], TOKEN, "127.0.0.1", PORT)
    with TestClient(app, base_url=BASE_URL) as test_client:
        test_client.get(f"/?token={TOKEN}")
        saved = test_client.post("/api/save", json={"values": train_tiny, "path": "tiny.toml"})
        assert saved.status_code == 200
        yield test_client

