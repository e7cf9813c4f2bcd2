"""Coverage of A's poses/expressions by B, the report picture, and bad folders (one line each)."""
import json

import numpy as np

from phaze.cli.main import main
from phaze.facesets.coverage import TOLERANCES, coverage, features
from phaze.facesets.folder import read_face_set
from phaze.io.images import decode_image

from faceset_helpers import copy_faces


def test_a_set_covers_itself(lively_faces):
    faces = read_face_set(lively_faces).faces
    assert coverage(faces, faces).covered.all()


def test_turned_faces_missing_from_a_frontal_set_are_listed(lively_faces, woman_faces,
                                                            tmp_path, capsys):
    output = tmp_path / "cover.png"
    assert main(["faces", "coverage", "--faces-a", str(lively_faces), "--faces-b",
                 str(woman_faces), "--output", str(output)]) == 0
    listing = json.loads(output.with_suffix(".json").read_text())
    faces_a = {face.path.name: face for face in read_face_set(lively_faces).faces}
    faces_b = read_face_set(woman_faces).faces
    tolerance = np.array(list(TOLERANCES.values()))
    assert 0 < len(listing["uncovered"]) < len(faces_a)
    for entry in listing["uncovered"]:
        # Truly no B face within tolerance in every feature.
        gaps = [np.abs(features(faces_a[entry["face"]]) - features(b)) / tolerance
                for b in faces_b]
        assert min(gap.max() for gap in gaps) > 1
    most_turned = max(faces_a.values(), key=lambda face: abs(face.pose.yaw))
    assert most_turned.path.name in {entry["face"] for entry in listing["uncovered"]}
    picture = decode_image(output)
    assert picture.shape == (540, 1000, 3)
    red = (picture[..., 0] > 200) & (picture[..., 1] < 80) & (picture[..., 2] < 80)
    assert red.sum() > 20   # the uncovered faces are drawn
    assert "A faces have a close B face" in capsys.readouterr().out


def test_report_writes_a_picture(woman_faces, tmp_path):
    output = tmp_path / "report.png"
    assert main(["faces", "report", "--input", str(woman_faces), "--output", str(output)]) == 0
    assert decode_image(output).shape == (540, 1000, 3)


def one_line_error(capsys, argv) -> str:
    assert main(argv) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error
    return error


def test_empty_folder_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    error = one_line_error(capsys, ["faces", "sort", "--input", str(tmp_path / "empty")])
    assert f"face folder '{tmp_path / 'empty'}' has no .png faces" in error


def test_missing_folder_is_one_clear_line(tmp_path, capsys):
    error = one_line_error(capsys, ["faces", "report", "--input", str(tmp_path / "nope")])
    assert "does not exist" in error


def test_corrupt_png_is_skipped_with_one_line(woman_faces, tmp_path, capsys):
    folder = copy_faces(woman_faces, into=tmp_path / "faces")
    good = sorted(folder.glob("*.png"))[0].read_bytes()
    (folder / "broken.png").write_bytes(good[:len(good) // 2])
    (folder / "notes.png").write_bytes(b"hello")
    assert main(["faces", "sort", "--input", str(folder), "--by", "blur"]) == 0
    out = capsys.readouterr().out.splitlines()
    skipped = [line for line in out if line.startswith("skipped")]
    assert len(skipped) == 2
    assert skipped[0].startswith("skipped broken.png: ") and skipped[1].startswith(
        "skipped notes.png: ")
    assert len(out) == 2 + len(list(woman_faces.glob("*.png")))


def test_unknown_sort_key_and_bad_limit_are_one_line(woman_faces, capsys):
    error = one_line_error(capsys, ["faces", "sort", "--input", str(woman_faces), "--by", "blurr"])
    assert "sort key 'blurr' is invalid: expected one of: " in error and "(did you mean 'blur'?)" in error
    error = one_line_error(capsys, ["faces", "filter", "--input", str(woman_faces),
                                    "--remove-below", "sharp=3"])
    assert "--remove-below 'sharp=3' is invalid" in error
