from fractions import Fraction

import av
import numpy as np
import pytest

from phaze.convert.writers import create_writer
from phaze.errors import ConfigError, DataError
from convert_helpers import make_frames, write_video


def test_png_writer_writes_complete_files_only(tmp_path):
    writer = create_writer("png", tmp_path / "out")
    frame = make_frames(1)[0]
    writer.write("frame_000001.jpg", frame)
    writer.close()
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["frame_000001.png"]


def test_video_writer_keeps_fps_and_copies_audio(tmp_path):
    source = tmp_path / "src.mp4"
    frames = make_frames(6)
    write_video(source, frames, fps=12)
    writer = create_writer("video", tmp_path / "out.mp4", fps=Fraction(12), audio_source=source)
    for index, frame in enumerate(frames):
        writer.write(str(index), frame)
    writer.close()
    with av.open(str(tmp_path / "out.mp4")) as container:
        assert container.streams.video[0].average_rate == 12
        assert len(container.streams.audio) == 1
        decoded = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    assert len(decoded) == 6 and decoded[0].shape == frames[0].shape
    assert {p.name for p in tmp_path.iterdir()} == {"src.mp4", "out.mp4"}  # no temp left


def test_aborted_video_leaves_no_file(tmp_path):
    writer = create_writer("video", tmp_path / "out.mp4", fps=10)
    writer.write("0", make_frames(1)[0])
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_odd_frame_size_is_refused_for_video(tmp_path):
    writer = create_writer("video", tmp_path / "out.mp4", fps=10)
    with pytest.raises(DataError, match="even"):
        writer.write("0", np.zeros((33, 64, 3), np.uint8))
    writer.abort()


def test_unknown_writer_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="png, jpg, video"):
        create_writer("gif", tmp_path / "x")
