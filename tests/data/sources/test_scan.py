"""Face sources: a folder mixing DFL JPGs, plain crops and broken metadata is counted by kind."""
from __future__ import annotations

import logging
import pickle
from pathlib import Path

import cv2
import numpy as np

from phaze.data.sources import scan_folder, synthetic_source


def _jpg(path: Path, metadata: dict | None = None, raw: bytes | None = None) -> None:
    jpeg = cv2.imencode(".jpg", np.full((64, 64, 3), 100, np.uint8))[1].tobytes()
    payload = raw if raw is not None else (None if metadata is None else pickle.dumps(metadata))
    if payload is not None:
        jpeg = jpeg[:2] + b"\xff\xef" + (len(payload) + 2).to_bytes(2, "big") + payload + jpeg[2:]
    path.write_bytes(jpeg)


def _landmarks() -> np.ndarray:
    return np.stack([np.linspace(5, 59, 68), np.linspace(8, 56, 68)], 1).astype(np.float32)


def _mixed_folder(folder: Path) -> Path:
    mask = cv2.imencode(".png", np.full((16, 16), 255, np.uint8))[1]
    _jpg(folder / "dfl_0.jpg", {"face_type": "whole_face", "landmarks": _landmarks(),
                                "xseg_mask": mask})
    _jpg(folder / "dfl_1.jpg", {"face_type": "full_face", "landmarks": _landmarks()})
    _jpg(folder / "crop.jpg")
    cv2.imwrite(str(folder / "crop.png"), np.zeros((64, 64, 3), np.uint8))
    _jpg(folder / "broken.jpg", raw=b"\x80\x04not a pickle")
    (folder / "notes.txt").write_text("not a face")
    return folder


def test_mixed_folder_is_counted_by_kind(tmp_path: Path, caplog) -> None:
    with caplog.at_level(logging.INFO):
        scan = scan_folder(_mixed_folder(tmp_path), "a")
    assert scan.counts == {"faceswap": 0, "dfl": 2, "plain": 3, "synthetic": 0}
    assert [p.name for p, _ in scan.broken] == ["broken.jpg"]
    dfl = {r.path.name: r for r in scan.records if r.kind == "dfl"}
    np.testing.assert_array_equal(dfl["dfl_0.jpg"].landmarks, _landmarks())
    assert "2 dfl, 3 plain" in caplog.text and "broken.jpg: used as a plain crop" in caplog.text
    assert caplog.text.count("plain crops have no landmarks") == 1


def test_partial_masks_are_used_where_present_and_said(tmp_path: Path) -> None:
    scan = scan_folder(_mixed_folder(tmp_path), "b")
    assert scan.with_masks == 1
    assert "1 of 5 have a stored mask: used where present" in scan.summary()
    assert next(r for r in scan.records if r.path.name == "dfl_0.jpg").mask.shape == (16, 16)


def test_masks_folder_pairs_by_stem(tmp_path: Path) -> None:
    _mixed_folder(tmp_path)
    (tmp_path / "masks").mkdir()
    cv2.imwrite(str(tmp_path / "masks" / "dfl_1.png"), np.zeros((64, 64), np.uint8))
    scan = scan_folder(tmp_path, "a")
    face = next(r for r in scan.records if r.path.name == "dfl_1.jpg")
    assert face.mask_path == tmp_path / "masks" / "dfl_1.png" and scan.with_masks == 2


def test_synthetic_faces_need_no_files() -> None:
    faces = np.zeros((3, 32, 32, 3), np.uint8)
    scan = synthetic_source(faces, "a")
    assert scan.counts["synthetic"] == 3 and all(r.path is None for r in scan.records)


def test_faceswap_png_from_the_astronaut_is_read_with_landmarks(tmp_path: Path,
                                                               astronaut_landmarks) -> None:
    import skimage.data

    from phaze.faces.aligned import AlignedFace
    from phaze.formats.faceswap_png import face_metadata, write_face_png

    frame = skimage.data.astronaut()
    face = AlignedFace("astronaut.png", 0, 175, 76, 90, 90, astronaut_landmarks)
    crop = face.warp(frame, 64)
    write_face_png(tmp_path / "astronaut_0.png", crop,
                   face_metadata(face, "astronaut.png", frame.shape[:2]))
    scan = scan_folder(tmp_path, "a")
    assert scan.counts["faceswap"] == 1
    points = scan.records[0].landmarks
    np.testing.assert_allclose(points, face.aligned_landmarks(64), atol=1e-4)
    assert (points > 0).all() and (points < 64).all()
