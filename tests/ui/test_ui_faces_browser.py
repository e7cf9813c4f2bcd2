"""The Faces page in headless Chromium: paint a mask, save, reload and see it; exclude a face and
see that training skips it; retrain the segmenter in the background; sort the gallery as
`phaze faces sort` does and show the A/B coverage picture."""
from __future__ import annotations

import shutil

import cv2
import numpy as np
import pytest
import skimage.data

from browser_helpers import browser_page, running_server
from ui_helpers import cli_sort_order, sortable_faces

TOKEN = "faces-test-token"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faces_ui")
    faces = folder / "faces"
    faces.mkdir()
    face = skimage.data.astronaut()[60:188, 160:288, ::-1]
    for index in range(3):
        cv2.imwrite(str(faces / f"face_{index}.png"), np.roll(face, index * 4, axis=1))
    sortable = sortable_faces(folder / "extracted")   # faces with metadata: sortable, measurable
    with running_server([folder], TOKEN) as (app, base):
        yield {"url": f"{base}/faces?token={TOKEN}&folder={faces}", "faces": faces,
               "folder": folder, "sortable": sortable, "page": f"{base}/faces?token={TOKEN}"}
        app.state.mask_jobs.stop_all()   # never leave a training process behind


@pytest.fixture(scope="module")
def page(server):
    with browser_page(server["url"], ".thumb[data-name='face_2.png']", 1200, 900) as page:
        yield page


def _stroke(page) -> None:
    box = page.locator("#canvas").bounding_box()
    y = box["y"] + box["height"] / 2
    page.mouse.move(box["x"] + box["width"] * 0.3, y)
    page.mouse.down()
    for step in range(1, 11):
        page.mouse.move(box["x"] + box["width"] * (0.3 + 0.04 * step), y)
    page.mouse.up()


def test_paint_save_reload_and_see_the_stroke(page, server):
    page.click(".thumb[data-name='face_0.png']")
    page.wait_for_selector("#editor:not([hidden])")
    _stroke(page)
    page.click("#save")
    page.wait_for_function("document.querySelector('#editor-status').textContent === 'saved'")
    stored = cv2.imread(str(server["faces"] / "masks" / "face_0.png"), cv2.IMREAD_GRAYSCALE)
    assert stored.shape == (128, 128)
    assert stored[64, 45:75].min() > 200 and stored[10, :].max() == 0  # the stroke, only
    page.reload()
    page.wait_for_selector(".thumb[data-name='face_0.png'][data-hand-drawn='1']")
    page.click(".thumb[data-name='face_0.png']")
    page.wait_for_function("document.querySelector('#editor-status').textContent"
                           " === 'hand-drawn mask'")
    # The overlay shows the stroke: green where painted, not above it.
    green = page.evaluate("""() => {
        const ctx = document.querySelector('#canvas').getContext('2d');
        const on = ctx.getImageData(192, 192, 1, 1).data, off = ctx.getImageData(192, 20, 1, 1).data;
        return [on[1] - on[0], off[1] - off[0]]; }""")
    assert green[0] > 40 and green[1] < green[0]


def test_exclude_a_face_and_training_skips_it(page, server):
    from phaze.data.faceset import load_faceset

    page.click(".thumb[data-name='face_1.png']")
    page.wait_for_function("document.querySelector('#editing').textContent === 'face_1.png'")
    page.check("#exclude")
    page.wait_for_selector(".thumb.excluded[data-name='face_1.png']")
    assert load_faceset(server["faces"], "a", 1, 64).names == ("face_0.png", "face_2.png")


def test_retrain_the_segmenter_runs_in_the_background_and_refreshes(page, server):
    from phaze.data.sources.labels import hand_drawn, save_hand_mask

    if "face_0" not in hand_drawn(server["faces"]):   # xdist may run this apart from the paint test
        mask = np.zeros((128, 128), np.uint8)
        cv2.circle(mask, (64, 64), 40, 255, -1)
        save_hand_mask(server["faces"], "face_0", mask)
    page.fill("#model-dir", str(server["folder"] / "mask_model"))
    page.fill("#steps", "1")
    page.click("#retrain")
    page.wait_for_selector("#retrain-status[data-done]", timeout=240_000)
    assert page.get_attribute("#retrain-status", "data-done") == "ok"
    # The hand-drawn mask is kept; the other used face got the segmenter's mask.
    page.wait_for_selector(".thumb[data-name='face_2.png'][data-has-mask='1']")
    page.wait_for_selector(".thumb[data-name='face_0.png'][data-hand-drawn='1']")


def test_the_gallery_sorted_by_blur_is_in_the_clis_order(page, server, capsys):
    sortable = server["sortable"]
    page.goto(f"{server['page']}&folder={sortable}")
    page.wait_for_selector(".thumb[data-name='e_blurred_0.png']")
    page.select_option("#sort", "blur")
    expected = "/".join(cli_sort_order(sortable, "blur", capsys))
    page.wait_for_function("(order) => document.body.dataset.order === order", arg=expected)
    assert expected.endswith("e_blurred_0.png")


def test_the_coverage_picture_is_shown_for_two_folders(page, server):
    few = server["folder"] / "few"
    few.mkdir()
    shutil.copy(server["sortable"] / "a_plain_0.png", few)
    page.goto(f"{server['page']}&folder={server['sortable']}")
    page.click("#coverage summary")
    page.fill("#cover-b", str(few))
    page.click("#cover")
    page.wait_for_selector("#cover-picture[data-loaded='1']")
    assert page.evaluate("document.querySelector('#cover-picture').naturalWidth") == 1000
    assert "of A's 5 faces have a close B face" in page.text_content("#cover-status")
