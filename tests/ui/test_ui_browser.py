"""The page in headless Chromium (Debian's, driven by Playwright): design and train.

PHAZE_UI_SCREENSHOTS=1 also writes docs/images/ui-design.png and ui-train.png.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from browser_helpers import browser_page, running_server
from ui_helpers import wait_for

TOKEN = "browser-test-token"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="module")
def server(tmp_path_factory, synthetic_faces, train_tiny):
    """A real uvicorn server on a free port, serving a folder with the tiny design saved."""
    from phaze.config.presets import options_to_toml, resolve_options
    from phaze.ui.training import running_pid, stop_run

    folder = tmp_path_factory.mktemp("ui")
    (folder / "tiny.toml").write_text(options_to_toml(resolve_options(overrides=train_tiny)))
    with running_server([folder, synthetic_faces[0].parent], TOKEN) as (_, base):
        yield {"url": f"{base}/?token={TOKEN}", "folder": folder, "faces": synthetic_faces}
        if stop_run(folder / "model"):   # never leave a training process behind
            wait_for(lambda: running_pid(folder / "model") is None)


@pytest.fixture(scope="module")
def page(server):
    with browser_page(server["url"], "body[data-ready='1']", 1400, 1000) as page:
        yield page


def _screenshot(page, name: str) -> None:
    if os.environ.get("PHAZE_UI_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"ui-{name}.png"), full_page=False)


def _text_changes(page, selector: str, old: str) -> str:
    page.wait_for_function("([s, old]) => { const t = document.querySelector(s).textContent;"
                           " return t !== old && t !== '–'; }", arg=[selector, old])
    return page.text_content(selector)


def _diagram_nodes(page) -> set[str]:
    return set(page.eval_on_selector_all("#diagram g.node", "gs => gs.map(g => g.dataset.name)"))


def test_design_page_preset_split_and_error(page):
    before = _text_changes(page, "#total-trainable", "–")
    page.select_option("#preset-select", "iae")     # shared decoder, full shared FC
    original = _text_changes(page, "#total-trainable", before)
    assert not page.is_checked("#opt-split_decoders")
    assert {"decoder_both", "fc_shared"} <= _diagram_nodes(page)

    page.check("#opt-split_decoders")
    split = _text_changes(page, "#total-trainable", original)
    assert int(split.replace(",", "")) > int(original.replace(",", ""))
    assert {"decoder_a", "decoder_b"} <= _diagram_nodes(page)
    assert "decoder_both" not in _diagram_nodes(page)
    assert page.eval_on_selector_all("#curves svg polyline", "ls => ls.length") >= 2
    _screenshot(page, "design")

    box = page.locator("#opt-output_size").bounding_box()
    page.fill("#opt-output_size", "abc")
    page.wait_for_function("document.querySelector('#err-output_size').textContent !== ''")
    assert "expected an integer from 64 to 2048" in page.text_content("#err-output_size")
    assert page.locator("#opt-output_size").bounding_box() == box   # no layout jump
    page.fill("#opt-output_size", "64")
    page.wait_for_function("document.querySelector('#err-output_size').textContent === ''")


def test_train_page_start_preview_stop(page, server):
    faces_a, faces_b = server["faces"]
    page.click("#tab-train")
    for selector, value in (("#train-model-dir", "model"), ("#train-faces-a", str(faces_a)),
                            ("#train-faces-b", str(faces_b)), ("#train-config", "tiny.toml"),
                            ("#train-batch", "4"), ("#train-save", "1000"),
                            ("#train-preview-every", "2"), ("#train-threads", "1"),
                            ("#train-workers", "0")):
        page.fill(selector, value)
    page.click("#train-start")
    page.wait_for_function("parseInt(document.querySelector('#iteration').textContent"
                           ".replace(/,/g, '')) >= 4")
    page.wait_for_selector("#preview[data-mtime]", state="visible")
    first = page.get_attribute("#preview", "data-mtime")
    page.wait_for_function("m => document.querySelector('#preview').dataset.mtime !== m",
                           arg=first)
    page.wait_for_function("document.querySelector('#preview').complete && "
                           "document.querySelector('#preview').naturalWidth > 0")
    assert page.text_content("#run-state") == "training"
    page.wait_for_function("document.querySelector('#egs').textContent !== '–'")
    page.wait_for_selector("#loss-plot polyline.series-a")
    _screenshot(page, "train")

    page.click("#train-stop")
    page.wait_for_function("document.querySelector('#run-state').textContent === 'stopped'")
    page.wait_for_function("document.querySelector('#checkpoint').textContent"
                           ".startsWith('iteration')")
    assert (server["folder"] / "model" / "checkpoint" / "state.json").is_file()
    assert "stopped" in page.text_content("#models-table")
