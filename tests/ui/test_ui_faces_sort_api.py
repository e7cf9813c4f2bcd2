"""The Faces page's sort orders and coverage picture agree with `phaze faces sort|coverage`."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from phaze.cli.main import main
from phaze.formats.faceswap_png import add_metadata, read_metadata
from phaze.io.images import decode_image, encode_image

from ui_helpers import cli_sort_order, sortable_faces


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Path:
    return sortable_faces(tmp_path_factory.mktemp("sortable"))


@pytest.fixture()
def faces(ui_folder: Path, extracted: Path) -> Path:
    return Path(shutil.copytree(extracted, ui_folder / "faces"))


def _listed(client, folder: Path, sort: str) -> list[dict]:
    answer = client.get("/api/faces/list", params={"folder": str(folder), "sort": sort})
    assert answer.status_code == 200, answer.text
    return answer.json()["faces"]


@pytest.mark.parametrize("key", ["blur", "pose", "yaw", "identity"])
def test_the_gallery_order_is_the_cli_sort_order(client, faces, key, capsys):
    listed = _listed(client, faces, key)
    assert [face["name"] for face in listed] == cli_sort_order(faces, key, capsys)
    assert all(face["value"] is not None for face in listed)


def test_the_blurred_copy_sorts_last_by_blur_and_name_order_is_the_default(client, faces):
    assert _listed(client, faces, "blur")[-1]["name"] == "e_blurred_0.png"
    names = [face["name"] for face in _listed(client, faces, "name")]
    assert names == sorted(names)


def test_a_face_changed_on_disk_is_measured_again(client, faces):
    assert _listed(client, faces, "blur")[0]["name"] != "e_blurred_0.png"
    sharp = decode_image(faces / "a_plain_0.png")   # the blurred copy becomes the sharpest
    metadata = read_metadata(faces / "e_blurred_0.png")
    detail = cv2.addWeighted(sharp, 2.0, cv2.GaussianBlur(sharp, (0, 0), 2.0), -1.0, 0)
    (faces / "e_blurred_0.png").write_bytes(add_metadata(encode_image(detail, ".png"), metadata))
    assert _listed(client, faces, "blur")[0]["name"] == "e_blurred_0.png"


def test_files_that_are_not_extracted_faces_follow_without_a_value(client, faces):
    cv2.imwrite(str(faces / "0_plain_crop.png"), np.full((64, 64, 3), 128, np.uint8))
    listed = _listed(client, faces, "blur")
    assert listed[-1]["name"] == "0_plain_crop.png" and listed[-1]["value"] is None
    assert len(listed) == 6


def test_an_unknown_sort_key_is_one_line_naming_the_choices(client, faces):
    answer = client.get("/api/faces/list", params={"folder": str(faces), "sort": "sharp"})
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert "'sharp'" in error and "blur" in error and "\n" not in error
    keys = [key["name"] for key in client.get("/api/faces/sort-keys").json()]
    assert keys[0] == "name" and {"blur", "identity", "pose"} <= set(keys)


def _open_mouth_copy(source: Path, target: Path) -> None:
    """`source` whose metadata says the mouth is wide open (lower lip moved down 0.4 IOD)."""
    metadata = read_metadata(source)
    points = np.asarray(metadata["alignments"]["landmarks_xy"])
    iod = np.linalg.norm(points[36:42].mean(0) - points[42:48].mean(0))
    points[[56, 57, 58, 65, 66, 67], 1] += 0.4 * iod
    metadata["alignments"]["landmarks_xy"] = points.tolist()
    target.write_bytes(add_metadata(encode_image(decode_image(source), ".png"), metadata))


def test_the_coverage_picture_and_list_are_the_clis(client, faces, ui_folder, capsys):
    few = ui_folder / "few"
    few.mkdir()
    shutil.copy(faces / "b_mirrored_0.png", few)
    _open_mouth_copy(faces / "a_plain_0.png", faces / "f_open_mouth_0.png")
    params = {"faces_a": str(faces), "faces_b": str(few)}
    picture = client.get("/api/faces/coverage.png", params=params)
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
    image = cv2.imdecode(np.frombuffer(picture.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape == (540, 1000, 3)
    listing = client.get("/api/faces/coverage", params=params).json()
    output = ui_folder / "cli" / "coverage.png"
    output.parent.mkdir()
    assert main(["faces", "coverage", "--faces-a", str(faces), "--faces-b", str(few),
                 "--output", str(output)]) == 0
    written = json.loads(output.with_suffix(".json").read_text())
    assert listing["uncovered"] == written["uncovered"]
    assert listing["covered_fraction"] == written["covered_fraction"] < 1
    assert "f_open_mouth_0.png" in [gap["face"] for gap in listing["uncovered"]]
    served = cv2.imdecode(np.frombuffer(picture.content, np.uint8), cv2.IMREAD_COLOR)
    np.testing.assert_array_equal(served, cv2.imread(str(output)))


def test_coverage_of_a_folder_outside_the_allowed_ones_is_refused(client, faces, tmp_path):
    answer = client.get("/api/faces/coverage.png",
                        params={"faces_a": str(faces), "faces_b": str(tmp_path.parent)})
    assert answer.status_code == 403
