"""The page's inputs under attack: a preset must be a built-in name (a path would escape
--folder), a malformed path is 400 not 500, the evaluate cache is bounded in bytes."""
from __future__ import annotations

import pytest

from phaze.ui import training
from phaze.ui.evaluate_cache import ByteBoundedCache


@pytest.fixture
def no_trainer(monkeypatch):
    """Record start requests instead of starting processes."""
    started = []
    monkeypatch.setattr(training, "start_run",
                        lambda request: started.append(request) or {"pid": 1, "command": []})
    return started


@pytest.mark.parametrize("preset", ["/etc/passwd", "../outside.toml", "demo.toml"])
def test_a_preset_that_is_not_a_builtin_name_is_refused(client, no_trainer, preset):
    response = client.post("/api/train/start",
                           json={"model_dir": "m", "demo": True, "preset": preset})
    assert response.status_code == 400
    assert "built-in preset" in response.json()["error"] and "is invalid: expected one of" in \
        response.json()["error"]
    assert no_trainer == []


def test_a_builtin_preset_name_still_starts(client, no_trainer):
    response = client.post("/api/train/start",
                           json={"model_dir": "m", "demo": True, "preset": "demo"})
    assert response.status_code == 200 and no_trainer[0].preset == "demo"


@pytest.mark.parametrize("field", ["model_dir", "config", "faces_a"])
def test_a_nul_byte_in_a_path_is_400_not_500(client, no_trainer, field):
    body = {"model_dir": "m", "demo": True, field: "bad\x00name"}
    response = client.post("/api/train/start", json=body)
    assert response.status_code == 400 and "not a usable path" in response.json()["error"]
    assert no_trainer == []


def test_a_nul_byte_in_a_query_path_is_400(client):
    assert client.get("/api/model", params={"path": "a\x00b"}).status_code == 400
    assert client.get("/api/preview", params={"path": "a\x00b"}).status_code == 400


def test_the_evaluate_cache_is_bounded_in_bytes():
    computed = []
    cache = ByteBoundedCache(lambda key: computed.append(key) or "x" * 100, max_bytes=10_000,
                             max_entry_bytes=2_000)
    for index in range(200):
        cache(f"{index:05d}" + "k" * 1_000)
    assert cache.size_bytes <= 10_000 and len(cache.entries) < 200
    cache("00199" + "k" * 1_000)              # the most recent answer is still remembered
    assert len(computed) == 200
    cache("big" + "k" * 50_000)               # too large to keep at all
    assert cache.size_bytes <= 10_000 and not any(k.startswith("big") for k in cache.entries)
