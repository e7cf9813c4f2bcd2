"""Extract checks its outputs before any work, and a full disk is one line naming the file,
with no partial face or alignments file left behind."""
from __future__ import annotations

import os

import pytest
from hostile_helpers import full_disk_from_write

from phaze.cli.main import main
from phaze.errors import DataError
from phaze.extract.pipeline import ExtractConfig, extract_faces
from phaze.io.images import write_image

ALIGN_ONLY = ExtractConfig(write_faces=False)


@pytest.fixture
def photos(tmp_path, astronaut):
    folder = tmp_path / "photos"
    folder.mkdir()
    for name in ("a.png", "b.png"):
        write_image(folder / name, astronaut)
    return folder


def _no_frames_read(monkeypatch):
    """Fail the test if extract reads a frame: the checks must come first."""
    import phaze.extract.pipeline as pipeline

    def refuse(*_args, **_kwargs):
        raise AssertionError("frames were read before the outputs were checked")

    monkeypatch.setattr(pipeline, "open_frames", refuse)


def test_an_existing_file_as_output_is_one_line(tmp_path, photos, capsys, monkeypatch):
    _no_frames_read(monkeypatch)
    (tmp_path / "taken").write_text("mine")
    code = main(["extract", "--input", str(photos), "--output", str(tmp_path / "taken")])
    error = capsys.readouterr().err
    assert code == 2 and error.count("\n") == 1
    assert "--output" in error and "exists and is not a folder" in error
    assert (tmp_path / "taken").read_text() == "mine"


@pytest.mark.parametrize("where", ["missing/alignments.json", "adir"])
def test_a_bad_alignments_path_fails_before_any_frame(tmp_path, photos, where, monkeypatch):
    _no_frames_read(monkeypatch)
    (tmp_path / "adir").mkdir()
    config = ExtractConfig(alignments_path=tmp_path / where)
    with pytest.raises(DataError, match="--alignments"):
        extract_faces(photos, tmp_path / "faces", config)


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_an_unwritable_alignments_folder_fails_before_any_frame(tmp_path, photos, monkeypatch):
    _no_frames_read(monkeypatch)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(DataError, match="not a writable folder"):
        extract_faces(photos, tmp_path / "faces",
                      ExtractConfig(alignments_path=locked / "alignments.json"))


def test_alignments_on_the_input_video_are_refused(tmp_path, monkeypatch):
    _no_frames_read(monkeypatch)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"not really")
    with pytest.raises(DataError, match="is the input"):
        extract_faces(video, tmp_path / "faces", ExtractConfig(alignments_path=video))
    assert video.read_bytes() == b"not really"


def test_a_full_disk_while_writing_faces_is_one_line_and_leaves_no_partial_file(
        tmp_path, photos, finder, monkeypatch):
    full_disk_from_write(monkeypatch, count=2)   # the first face fits, the second does not
    output = tmp_path / "faces"
    with pytest.raises(DataError) as caught:
        extract_faces(photos, output, ExtractConfig(size_px=64), finder=finder)
    message = str(caught.value)
    assert message == f"could not write '{output / 'b_0.png'}': No space left on device"
    assert sorted(p.name for p in output.iterdir()) == ["a_0.png"]


def test_a_full_disk_at_the_alignments_file_leaves_no_partial_file(tmp_path, photos, finder,
                                                                   monkeypatch):
    full_disk_from_write(monkeypatch, count=1)
    output = tmp_path / "faces"
    with pytest.raises(DataError, match="alignments.json': No space left on device"):
        extract_faces(photos, output, ALIGN_ONLY, finder=finder)
    assert list(output.iterdir()) == []


def test_the_input_folder_as_output_is_refused(photos, monkeypatch):
    _no_frames_read(monkeypatch)
    with pytest.raises(DataError, match="is the input folder"):
        extract_faces(photos, photos, ALIGN_ONLY)
    assert sorted(p.name for p in photos.iterdir()) == ["a.png", "b.png"]
