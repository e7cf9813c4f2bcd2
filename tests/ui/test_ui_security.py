"""The server refuses requests without the token, with a foreign Host, or outside the folders."""
from __future__ import annotations

PORT, TOKEN = 8765, "test-token"    # as in conftest.py


def test_no_token_is_forbidden(bare_client):
    client = bare_client
    assert client.get("/").status_code == 403
    assert client.get("/api/schema").status_code == 403
    assert client.post("/api/evaluate", json={"values": {}}).status_code == 403


def test_wrong_token_is_forbidden(bare_client):
    assert bare_client.get("/api/schema?token=nope").status_code == 403


def test_token_in_url_sets_a_cookie_for_later_requests(bare_client):
    client = bare_client
    first = client.get(f"/?token={TOKEN}")
    assert first.status_code == 200 and "phaze_token" in first.cookies
    assert client.get("/api/schema").status_code == 200


def test_foreign_host_header_is_refused(bare_client):
    client = bare_client
    for host in ("evil.example", f"evil.example:{PORT}", "127.0.0.1:1"):
        response = client.get(f"/api/schema?token={TOKEN}", headers={"Host": host})
        assert response.status_code == 400, host
    ok = client.get(f"/api/schema?token={TOKEN}", headers={"Host": f"localhost:{PORT}"})
    assert ok.status_code == 200


def test_paths_outside_the_folders_are_refused(client, ui_folder, tmp_path):
    outside = tmp_path / "elsewhere.toml"
    response = client.post("/api/save", json={"values": {}, "path": str(outside)})
    assert response.status_code == 403 and "outside the allowed folders" in response.json()["error"]
    assert not outside.exists()
    assert client.post("/api/save", json={"values": {}, "path": "../escape.toml"}).status_code == 403
    assert client.post("/api/load", json={"path": "/etc/passwd"}).status_code == 403
    assert client.get("/api/model", params={"path": "/"}).status_code == 403
    start = client.post("/api/train/start", json={"model_dir": str(tmp_path / "m")})
    assert start.status_code == 403 and not (tmp_path / "m").exists()


def test_symlink_out_of_the_folder_is_refused(client, ui_folder, tmp_path):
    (tmp_path / "secret").mkdir()
    (ui_folder / "link").symlink_to(tmp_path / "secret")
    assert client.get("/api/model", params={"path": "link"}).status_code == 403
