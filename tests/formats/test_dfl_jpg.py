"""DFL aligned JPGs: metadata read with correct landmarks; hostile pickles refused, nothing run."""
from __future__ import annotations

import os
import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest

from phaze.errors import DataError
from phaze.formats.dfl_jpg import read_dfl_jpg


def _write_dfl_jpg(path: Path, payload: bytes | None) -> Path:
    """A 64 px JPEG with `payload` in an APP15 segment right after SOI, as DFL writes it."""
    image = np.full((64, 64, 3), 128, np.uint8)
    jpeg = cv2.imencode(".jpg", image)[1].tobytes()
    if payload is not None:
        segment = b"\xff\xef" + (len(payload) + 2).to_bytes(2, "big") + payload
        jpeg = jpeg[:2] + segment + jpeg[2:]
    path.write_bytes(jpeg)
    return path


def _dfl_dict() -> dict:
    landmarks = np.stack([np.linspace(5, 59, 68), np.linspace(10, 50, 68)], 1).astype(np.float32)
    mask = np.zeros((32, 32), np.uint8)
    mask[8:24, 8:24] = 255
    return {"face_type": "whole_face", "landmarks": landmarks,
            "source_filename": "frame_0001.png", "source_rect": (10, 20, 110, 120),
            "source_landmarks": landmarks * 2 + 3,
            "image_to_face_mat": np.array([[0.5, 0, -1.5], [0, 0.5, -1.5]], np.float64),
            "xseg_mask": cv2.imencode(".png", mask)[1]}


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_dfl_metadata_is_read_with_its_landmarks(tmp_path: Path, protocol: int) -> None:
    expected = _dfl_dict()
    path = _write_dfl_jpg(tmp_path / "00001_0.jpg", pickle.dumps(expected, protocol=protocol))
    face = read_dfl_jpg(path)
    assert face is not None and face.face_type == "whole_face"
    np.testing.assert_array_equal(face.landmarks, expected["landmarks"])
    np.testing.assert_array_equal(face.source_landmarks, expected["source_landmarks"])
    np.testing.assert_allclose(face.image_to_face_mat, expected["image_to_face_mat"])
    assert face.source_filename == "frame_0001.png"
    assert face.source_rect == (10.0, 20.0, 110.0, 120.0)
    assert face.xseg_mask.shape == (32, 32) and face.xseg_mask[16, 16] == 255
    assert face.xseg_mask[0, 0] == 0


def test_jpeg_without_app15_is_a_plain_crop(tmp_path: Path) -> None:
    assert read_dfl_jpg(_write_dfl_jpg(tmp_path / "plain.jpg", None)) is None


class _RunsCommand:
    def __init__(self, command: str) -> None:
        self.command = command

    def __reduce__(self):
        return (os.system, (self.command,))


def test_pickle_reducing_to_os_system_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    payload = pickle.dumps({"face_type": "whole_face", "x": _RunsCommand(f"touch {marker}")})
    path = _write_dfl_jpg(tmp_path / "evil.jpg", payload)
    with pytest.raises(DataError, match=r"evil\.jpg.*os\.system|evil\.jpg.*posix\.system"):
        read_dfl_jpg(path)
    assert not marker.exists()


def test_deeply_nested_pickle_is_refused(tmp_path: Path) -> None:
    # 20 000 nested lists, written by hand: pickle.dumps itself would hit the recursion limit.
    payload = b"\x80\x02" + b"]" * 20_000 + b"a" * 19_999 + b"."
    path = _write_dfl_jpg(tmp_path / "deep.jpg", payload)
    with pytest.raises(DataError, match="deep.jpg.*nested deeper"):
        read_dfl_jpg(path)


def test_shared_reference_bomb_is_refused(tmp_path: Path) -> None:
    bomb: list = ["x"]
    for _ in range(30):  # 2**30 leaves, a few hundred bytes of pickle
        bomb = [bomb, bomb]
    path = _write_dfl_jpg(tmp_path / "laughs.jpg", pickle.dumps({"face_type": "head", "l": bomb}))
    with pytest.raises(DataError, match="laughs.jpg.*refused"):
        read_dfl_jpg(path)


def test_object_arrays_are_refused(tmp_path: Path) -> None:
    payload = pickle.dumps({"face_type": "head", "landmarks": np.array([1, "a"], dtype=object)})
    with pytest.raises(DataError, match="obj.jpg.*dtype object"):
        read_dfl_jpg(_write_dfl_jpg(tmp_path / "obj.jpg", payload))


def test_unknown_face_type_is_reported_by_name(tmp_path: Path) -> None:
    metadata = _dfl_dict() | {"face_type": "future_face"}
    path = _write_dfl_jpg(tmp_path / "new.jpg", pickle.dumps(metadata))
    with pytest.raises(DataError, match="new.jpg.*future_face"):
        read_dfl_jpg(path)


def test_truncated_pickle_is_a_clear_error(tmp_path: Path) -> None:
    path = _write_dfl_jpg(tmp_path / "cut.jpg", pickle.dumps(_dfl_dict())[:40])
    with pytest.raises(DataError, match="cut.jpg.*refused"):
        read_dfl_jpg(path)
