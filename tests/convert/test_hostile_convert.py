"""Convert under hostile or careless input: broken alignments name file and frame, a frame's
faces go through the model in bounded batches, the preview never overwrites an input, and a
full disk is one line that leaves no partial output."""
from __future__ import annotations

import errno
import json

import av
import numpy as np
import pytest
from convert_helpers import (BoxGeometry, invert_predict, landmarks_at, make_frames,
                             write_alignments)
from hostile_helpers import full_disk_from_write

from phaze.convert.alignments import load_alignments
from phaze.convert.pipeline import ConvertOptions, FaceConverter, _Pending, run_convert
from phaze.convert.run import ConvertJob, convert, preview
from phaze.convert.writers import VideoWriter, create_writer
from phaze.errors import DataError
from phaze.faces.framing import Framing
from phaze.io.images import write_image

INPUT_PX, OUTPUT_PX = 32, 48


def _converter(batch_size=2, predict=None):
    return FaceConverter(predict or invert_predict(OUTPUT_PX), INPUT_PX, OUTPUT_PX, Framing(),
                         BoxGeometry(), ConvertOptions(colour="none", batch_size=batch_size),
                         learns_mask=False)


def _alignments_text(box_text: str, landmarks: list | None = None) -> str:
    points = landmarks if landmarks is not None else landmarks_at(10, 10).tolist()
    face = '{"x": %s, "y": 0, "w": 10, "h": 10, "score": 1.0, "landmarks_xy": %s}' % (
        box_text, json.dumps(points))
    return ('{"__meta__": {"format": "phaze-alignments", "version": 1, "is_video": false}, '
            '"frames": {"f001.png": {"faces": [%s]}}}' % face)


@pytest.mark.parametrize("box", ["Infinity", "-Infinity", "NaN", "1e400"])
def test_an_alignments_box_of_infinity_or_nan_names_the_file_and_frame(tmp_path, box):
    path = tmp_path / "alignments.json"
    path.write_text(_alignments_text(box))
    with pytest.raises(DataError) as caught:
        load_alignments(path)
    message = str(caught.value)
    assert str(path) in message and "'f001.png' face 0" in message and "\n" not in message


def test_degenerate_alignments_landmarks_name_the_file_and_frame(tmp_path):
    path = tmp_path / "alignments.json"
    path.write_text(_alignments_text("0", [[5.0, 5.0]] * 68))
    with pytest.raises(DataError, match=r"alignments\.json.*'f001\.png' face 0.*degenerate"):
        load_alignments(path)


def test_a_crop_matrix_failure_in_convert_names_the_frame():
    class Refusing(BoxGeometry):
        def crop_matrix(self, landmarks, size_px, framing):
            raise DataError("landmarks are degenerate: all points coincide")

    converter = FaceConverter(invert_predict(OUTPUT_PX), INPUT_PX, OUTPUT_PX, Framing(),
                              Refusing(), ConvertOptions(colour="none"), learns_mask=False)
    frame = make_frames(1)[0]
    with pytest.raises(DataError, match="frame 'f001.png' face 0: landmarks are degenerate"):
        converter.convert_batch([_Pending("f001.png", frame, [landmarks_at(10, 10)])])


def test_many_faces_on_one_frame_go_through_the_model_in_bounded_batches():
    seen: list[int] = []
    inner = invert_predict(OUTPUT_PX)

    def predict(batch):
        seen.append(batch.shape[0])
        return inner(batch)

    converter = _converter(batch_size=8, predict=predict)
    frame = make_frames(1)[0]
    converter.convert_batch([_Pending("f001.png", frame, [landmarks_at(10, 10)] * 300)])
    assert sum(seen) == 300 and max(seen) == 8


def _folder_job(tmp_path):
    frames = tmp_path / "frames"
    frames.mkdir()
    images = make_frames(2)
    for index, image in enumerate(images):
        write_image(frames / f"f{index:03d}.png", image)
    faces = {f"f{index:03d}.png": [landmarks_at(10, 12)] for index in range(2)}
    return frames, write_alignments(tmp_path / "alignments.json", faces)


@pytest.mark.parametrize("target", ["frame", "alignments"])
def test_preview_refuses_to_overwrite_an_input(tmp_path, target):
    frames, alignments = _folder_job(tmp_path)
    output = frames / "f000.png" if target == "frame" else alignments
    before = output.read_bytes()
    job = ConvertJob(tmp_path, frames, alignments, output)

    with pytest.raises(DataError, match="would overwrite the source"):
        preview(job, "f000.png", converter=_converter())

    assert output.read_bytes() == before


def test_png_frames_on_a_full_disk_say_so_and_leave_no_partial_file(tmp_path, monkeypatch):
    frames, alignments = _folder_job(tmp_path)
    out = tmp_path / "out"
    full_disk_from_write(monkeypatch, count=2)

    with pytest.raises(DataError) as caught:
        convert(ConvertJob(tmp_path, frames, alignments, out), converter=_converter())

    assert "No space left on device" in str(caught.value) and "f001.png" in str(caught.value)
    assert sorted(p.name for p in out.iterdir()) == ["f000.png"]   # no partial temp file


def test_a_video_whose_close_hits_a_full_disk_leaves_nothing(tmp_path, monkeypatch):
    output = tmp_path / "out.mp4"
    writer = create_writer("video", output, fps=10)

    class FullDisk:   # the container, except that the second packet muxed finds no space
        def __init__(self, container):
            self.container, self.calls = container, 0

        def __getattr__(self, name):
            return getattr(self.container, name)

        def mux(self, packet):   # x264 holds frames back: most muxing happens in close()
            self.calls += 1
            if self.calls >= 2:
                raise av.error.OSError(errno.ENOSPC, "No space left on device")
            return self.container.mux(packet)

    writer.container = FullDisk(writer.container)
    frames = ((f"f{index}", frame) for index, frame in enumerate(make_frames(6)))
    frames_and_faces = load_alignments_for_nothing(tmp_path)

    with pytest.raises(DataError) as caught:
        run_convert(frames, frames_and_faces, _converter(), writer)

    message = str(caught.value)
    assert "No space left on device" in message and str(output) in message
    assert "\n" not in message
    assert list(tmp_path.glob("*.mp4")) == [] and list(tmp_path.glob(".*partial*")) == []


def load_alignments_for_nothing(tmp_path):
    """Alignments without faces: the frames are written unchanged."""
    return load_alignments(write_alignments(tmp_path / "none.json", {}))


def test_video_writer_errors_while_writing_are_one_line(tmp_path, monkeypatch):
    writer = VideoWriter(tmp_path / "out.mp4", 10)

    def full(*_args):
        raise av.error.OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(writer, "_write", full)
    with pytest.raises(DataError, match="could not write .*out.mp4.*No space left on device"):
        writer.write("f0", np.zeros((16, 16, 3), np.uint8))
    writer.abort()
    assert list(tmp_path.iterdir()) == []
