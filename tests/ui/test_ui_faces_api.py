"""The Faces page's endpoints: gallery, masks (hand-drawn), exclusions, bad input."""
from __future__ import annotations

import base64
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data

from phaze.data.sources import labels


def _png64(mask: np.ndarray) -> str:
    return base64.b64encode(cv2.imencode(".png", mask)[1].tobytes()).decode()


@pytest.fixture()
def faces(ui_folder: Path) -> Path:
    folder = ui_folder / "faces"
    folder.mkdir()
    face = skimage.data.astronaut()[60:188, 160:288, ::-1]
    for index in range(3):
        cv2.imwrite(str(folder / f"face_{index}.png"), np.roll(face, index * 4, axis=1))
    return folder


def test_the_gallery_lists_faces_with_their_mask_state(client, faces):
    labels.save_hand_mask(faces, "face_1", np.zeros((128, 128), np.uint8))
    listed = client.get("/api/faces/list", params={"folder": str(faces)}).json()
    assert listed["total"] == 3
    assert [(f["name"], f["has_mask"], f["hand_drawn"]) for f in listed["faces"]] == [
        ("face_0.png", False, False), ("face_1.png", True, True), ("face_2.png", False, False)]
    assert client.get("/api/faces/mask", params={"folder": str(faces),
                                                 "name": "face_1.png"}).status_code == 200


def test_a_saved_mask_is_stored_as_hand_drawn_at_the_faces_size(client, faces):
    mask = np.zeros((128, 128), np.uint8)
    mask[30:90, 40:100] = 255
    answer = client.post("/api/faces/mask", json={"folder": str(faces), "name": "face_0.png",
                                                  "png_base64": _png64(mask)})
    assert answer.status_code == 200
    stored = cv2.imread(str(faces / "masks" / "face_0.png"), cv2.IMREAD_GRAYSCALE)
    np.testing.assert_array_equal(stored, mask)
    assert labels.hand_drawn(faces) == {"face_0"}


@pytest.mark.parametrize("name, mask, message", [
    ("face_0.png", np.zeros((64, 64), np.uint8), "expected the face's 128×128 px"),
    ("../face_0.png", np.zeros((128, 128), np.uint8), "is not an image in"),
    ("face_0.png", None, "not a base64 PNG"),
])
def test_a_bad_mask_save_is_one_line_and_writes_nothing(client, faces, name, mask, message):
    body = {"folder": str(faces), "name": name,
            "png_base64": "not png" if mask is None else _png64(mask)}
    answer = client.post("/api/faces/mask", json=body)
    assert answer.status_code == 400 and message in answer.json()["error"]
    assert "\n" not in answer.json()["error"]
    assert not (faces / "masks").exists() or not list((faces / "masks").glob("*.png"))


def test_an_excluded_face_is_left_out_of_training(client, faces):
    from phaze.data.faceset import load_faceset

    answer = client.post("/api/faces/exclude", json={"folder": str(faces), "name": "face_2.png",
                                                     "excluded": True})
    assert answer.json()["excluded"] == ["face_2.png"]
    assert load_faceset(faces, "a", 1, 64).names == ("face_0.png", "face_1.png")


def test_a_folder_outside_the_allowed_ones_is_refused(client, tmp_path):
    answer = client.get("/api/faces/list", params={"folder": str(tmp_path.parent)})
    assert answer.status_code == 403
