from fractions import Fraction

import av
import numpy as np
import pytest

from phaze.convert.writers import VideoWriter, create_writer
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


def _textured(count, height=64, width=96):
    """Frames with detail and motion, so x264 holds packets back for its look-ahead."""
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (height, width + count, 3), dtype=np.uint8)
    return [np.ascontiguousarray(base[:, i:i + width]) for i in range(count)]


def _decoded(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(stream)]
        seconds = (float(stream.duration * stream.time_base) if stream.duration
                   else container.duration / 1e6)   # mkv keeps only the container's
        return frames, stream.average_rate, seconds


def test_video_longer_than_the_encoder_look_ahead_is_written_whole(tmp_path):
    # x264 (preset medium) keeps ~40 frames back: packets mux before the final flush.
    frames = _textured(90)
    writer = create_writer("video", tmp_path / "out.mp4", fps=Fraction(25))
    for index, frame in enumerate(frames):
        writer.write(str(index), frame)
    writer.close()
    decoded, rate, seconds = _decoded(tmp_path / "out.mp4")
    assert (len(decoded), rate) == (90, 25)
    assert seconds == pytest.approx(90 / 25, abs=1 / 25)


@pytest.mark.parametrize("suffix", [".mov", ".mkv"])
def test_mov_and_mkv_outputs_are_written(tmp_path, suffix):
    writer = create_writer("video", tmp_path / f"out{suffix}", fps=Fraction(30000, 1001))
    for index, frame in enumerate(_textured(50)):
        writer.write(str(index), frame)
    writer.close()
    decoded, rate, _ = _decoded(tmp_path / f"out{suffix}")
    assert len(decoded) == 50 and rate == Fraction(30000, 1001)
    assert [p.name for p in tmp_path.iterdir()] == [f"out{suffix}"]


def test_odd_frame_size_is_padded_by_repeating_the_edge(tmp_path):
    frame = np.zeros((33, 63, 3), np.uint8)
    frame[:, :, 0] = 200
    writer = create_writer("video", tmp_path / "out.mp4", fps=10)
    writer.write("0", frame)
    writer.close()
    decoded, _, _ = _decoded(tmp_path / "out.mp4")
    assert decoded[0].shape == (34, 64, 3)
    assert abs(int(decoded[0][-1, -1, 0]) - 200) < 8   # the padding repeats the picture


def test_encoder_failure_is_one_line_naming_the_file_and_leaves_nothing(tmp_path):
    writer = VideoWriter(tmp_path / "out.mp4", fps=10, preset="no-such-preset")
    with pytest.raises(DataError, match="out.mp4") as error:
        writer.write("0", np.zeros((32, 32, 3), np.uint8))   # libx264 refuses to open
    assert "\n" not in str(error.value)
    writer.abort()
    assert list(tmp_path.iterdir()) == []


def test_video_without_frames_leaves_nothing(tmp_path):
    writer = create_writer("video", tmp_path / "out.mkv", fps=10)
    with pytest.raises(DataError, match="no frames"):
        writer.close()
    assert list(tmp_path.iterdir()) == []


def test_unknown_writer_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="png, jpg, video"):
        create_writer("gif", tmp_path / "x")


def test_video_in_a_folder_that_cannot_exist_is_one_line_naming_the_file(tmp_path):
    (tmp_path / "taken").write_text("a file, not a folder")
    with pytest.raises(DataError, match="taken/out.mp4"):
        create_writer("video", tmp_path / "taken" / "out.mp4", fps=10)
