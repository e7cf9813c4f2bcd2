"""Streaming frames from videos (PyAV) and image folders; broken input is reported by name."""
import numpy as np
import pytest

from phaze.errors import ConfigError, DataError
from phaze.io.images import write_image
from phaze.io.video import open_frames, video_frame_name, write_test_video


def _gradient_frames(count: int) -> list[np.ndarray]:
    base = np.zeros((48, 64, 3), np.uint8)
    return [base + np.uint8(20 * i % 250) for i in range(count)]


@pytest.fixture(scope="module")
def video(tmp_path_factory):
    return write_test_video(tmp_path_factory.mktemp("video") / "clip.mp4", _gradient_frames(9),
                            fps=10)


def test_video_frames_stream_with_names_and_timing(video):
    source, frames = open_frames(video)
    frames = list(frames)
    assert (source.is_video, source.fps, source.frame_count) == (True, 10.0, 9)
    assert [f.name for f in frames][:2] == ["clip_000001.png", "clip_000002.png"]
    assert frames[4].image.shape == (48, 64, 3)
    assert abs(int(frames[4].image.mean()) - 80) <= 3   # decoded, not just counted
    assert source.skipped == []


def test_every_n_keeps_source_indices(video):
    _, frames = open_frames(video, every_n=4)
    assert [f.index for f in frames] == [0, 4, 8]


def test_truncated_video_is_reported_by_name_with_frames_read(tmp_path):
    rng = np.random.default_rng(0)   # noise: big packets, so half the file is half the frames
    noisy = [rng.integers(0, 255, (48, 64, 3), dtype=np.uint8) for _ in range(30)]
    path = write_test_video(tmp_path / "cut.mkv", noisy, fps=10)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    source, frames = open_frames(path)   # mkv keeps its header in front: it still opens
    read = list(frames)
    assert 0 < len(read) < 30
    assert source.skipped and source.skipped[0][0] == "cut.mkv"


def test_video_without_index_is_refused_by_name(tmp_path):
    path = write_test_video(tmp_path / "nomoov.mp4", _gradient_frames(5))
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(DataError, match="nomoov.mp4"):
        open_frames(path)


def test_folder_skips_unreadable_images_by_name(tmp_path):
    write_image(tmp_path / "a.png", np.full((8, 8, 3), 7, np.uint8))
    (tmp_path / "b.jpg").write_bytes(b"not a jpeg at all")
    (tmp_path / "notes.txt").write_text("ignored")
    source, frames = open_frames(tmp_path)
    names = [f.name for f in frames]
    assert names == ["a.png"]
    assert source.skipped == [("b.jpg", "not a readable image")]


def test_empty_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="has no images"):
        open_frames(tmp_path)


def test_missing_input_and_bad_every_n(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        open_frames(tmp_path / "nope.mp4")
    with pytest.raises(ConfigError, match="every-n 0"):
        open_frames(tmp_path, every_n=0)


def test_video_frame_names_follow_faceswap(tmp_path):
    assert video_frame_name(tmp_path / "my clip.mp4", 0) == "my clip_000001.png"
