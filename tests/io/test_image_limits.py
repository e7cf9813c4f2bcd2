"""Images are measured from their header before decoding: a 400 KB PNG of 20000² px is refused
with its size and the limit, and `phaze extract` skips it within a stated memory bound."""
from __future__ import annotations

import struct
from pathlib import Path

import cv2
import numpy as np
import pytest
from hostile_helpers import huge_grey_png, png_chunk, run_phaze

from phaze.io.image_header import ImageTooLarge, image_size
from phaze.io.images import decode_image, encode_image
from phaze.io.limits import Limits

BOMB_BOUND_MB = 1024


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".bmp"])
def test_the_size_is_read_from_every_header(suffix):
    ok, data = cv2.imencode(suffix, np.zeros((37, 53, 3), np.uint8))
    assert ok and image_size(data.tobytes()) == (53, 37)


def test_an_image_over_the_area_limit_is_refused_before_decoding(tmp_path):
    ihdr = struct.pack(">IIBBBBB", 20000, 20000, 8, 2, 0, 0, 0)
    path = tmp_path / "huge.png"   # a header claiming 1.2 GB of RGB: nothing is decoded
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IEND", b""))

    with pytest.raises(ImageTooLarge) as caught:
        decode_image(path)

    message = str(caught.value)
    assert "huge.png" in message and "20000x20000" in message and "\n" not in message
    assert "100.0 MP limit" in message and "PHAZE_MAX_IMAGE_PIXELS" in message


def test_the_area_limit_is_raised_through_the_environment(tmp_path, monkeypatch):
    path = tmp_path / "face.png"
    path.write_bytes(encode_image(np.zeros((40, 40, 3), np.uint8)))
    monkeypatch.setenv("PHAZE_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(ImageTooLarge, match="0.0 MP limit"):
        decode_image(path)
    monkeypatch.setenv("PHAZE_MAX_IMAGE_PIXELS", "1600")
    assert decode_image(path).shape == (40, 40, 3)
    assert Limits.from_env({"PHAZE_MAX_IMAGE_PIXELS": "2_000"}).max_image_pixels == 2000


def test_a_bad_limit_setting_is_one_clear_error():
    from phaze.errors import ConfigError

    with pytest.raises(ConfigError, match="PHAZE_MAX_MASK_BYTES='lots' is invalid"):
        Limits.from_env({"PHAZE_MAX_MASK_BYTES": "lots"})


def test_an_image_of_an_unknown_format_is_not_decoded(tmp_path):
    path = tmp_path / "face.png"   # TIFF bytes behind a .png name: OpenCV would decode them
    path.write_bytes(cv2.imencode(".tiff", np.zeros((8, 8, 3), np.uint8))[1].tobytes())
    assert decode_image(path) is None


def test_extract_skips_a_20000_px_png_by_name_under_the_memory_bound(tmp_path: Path):
    frames = tmp_path / "frames"
    frames.mkdir()
    (frames / "black.png").write_bytes(huge_grey_png(20000, 20000))   # ~400 KB
    before = (frames / "black.png").read_bytes()

    result = run_phaze(["extract", "--input", "frames", "--output", "faces", "--no-progress"],
                       tmp_path)

    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("phaze: error")]
    assert len(lines) == 1 and "black.png" in lines[0] and "20000x20000" in lines[0]
    assert "Traceback" not in result.stderr
    assert result.peak_mb < BOMB_BOUND_MB, result.peak_mb
    assert (frames / "black.png").read_bytes() == before
    assert not (tmp_path / "faces" / "alignments.json").exists()


def test_a_jpeg_size_after_large_metadata_segments_is_found():
    jpeg = cv2.imencode(".jpg", np.zeros((37, 53, 3), np.uint8))[1].tobytes()
    segment = b"\xff\xef" + (60_002).to_bytes(2, "big") + bytes(60_000)   # DFL-sized APP15
    assert image_size(jpeg[:2] + segment * 3 + jpeg[2:]) == (53, 37)


@pytest.mark.parametrize("reader", ["extract", "convert"])
def test_video_frames_over_the_area_budget_are_refused_before_decoding(tmp_path, monkeypatch,
                                                                       reader):
    from phaze.io.video import write_test_video

    video = tmp_path / "clip.mp4"
    write_test_video(video, [np.zeros((64, 64, 3), np.uint8)] * 2, fps=10)
    monkeypatch.setenv("PHAZE_MAX_IMAGE_PIXELS", "4000")   # 64 x 64 = 4096 px
    with pytest.raises(ImageTooLarge, match=r"clip.mp4 \(its frames\)' is 64x64 px"):
        if reader == "extract":
            from phaze.io.video import open_frames
            open_frames(video)
        else:
            from phaze.convert.frames import open_frames
            open_frames(video)
