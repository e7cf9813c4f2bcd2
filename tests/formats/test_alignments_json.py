"""Phaze's JSON alignments: written atomically, read back exactly, malformed files named."""
from __future__ import annotations

import json

import numpy as np
import pytest

from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.formats.alignments_json import (Alignments, VideoInfo, read_alignments,
                                           write_alignments)


def _alignments() -> Alignments:
    landmarks = np.round(np.random.default_rng(0).uniform(0, 500, (68, 2)), 3)
    alignments = Alignments(video=VideoInfo(frame_count=3, fps=25.0))
    alignments.add_frame("clip_000000.png", [AlignedFace("clip_000000.png", 0, 1, 2, 30, 40,
                                                         landmarks, 0.9)])
    alignments.add_frame("clip_000001.png")
    return alignments


def test_round_trip_keeps_every_frame_and_face(tmp_path):
    path = write_alignments(tmp_path / "alignments.json", _alignments())
    read = read_alignments(path)
    assert list(read.frames) == ["clip_000000.png", "clip_000001.png"]
    assert read.frames["clip_000001.png"] == []
    face = read.frames["clip_000000.png"][0]
    np.testing.assert_array_equal(face.landmarks, _alignments().frames["clip_000000.png"][0]
                                  .landmarks)
    assert (face.x, face.y, face.w, face.h, face.score) == (1, 2, 30, 40, 0.9)
    assert read.video == VideoInfo(3, 25.0) and read.face_count == 1
    assert [p.name for p in tmp_path.iterdir()] == ["alignments.json"]


@pytest.mark.parametrize("edit, message", [
    (lambda raw: raw["__meta__"].update(format="x"), "not a Phaze alignments"),
    (lambda raw: raw["__meta__"].update(version=9), "version 9"),
    (lambda raw: raw["frames"]["clip_000000.png"]["faces"][0].update(x="1"), "face 0: box"),
    (lambda raw: raw["frames"]["clip_000000.png"]["faces"][0].update(landmarks_xy=[[1, 2]]),
     "shape"),
    (lambda raw: raw["__meta__"].update(frame_count=-1), "frame_count"),
    (lambda raw: raw["frames"].update(x=[]), "frame 'x' must hold"),
])
def test_malformed_entries_are_named(tmp_path, edit, message):
    path = write_alignments(tmp_path / "a.json", _alignments())
    raw = json.loads(path.read_text())
    edit(raw)
    path.write_text(json.dumps(raw))
    with pytest.raises(DataError, match=message):
        read_alignments(path)


def test_not_json_is_a_data_error_naming_the_file(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{not json")
    with pytest.raises(DataError, match="broken.json.*not valid JSON"):
        read_alignments(path)


def test_convert_reads_what_this_module_writes(tmp_path):
    from phaze.convert.alignments import load_alignments

    path = write_alignments(tmp_path / "a.json", _alignments())
    loaded = load_alignments(path)
    assert loaded.frame_count == 3 and loaded.fps == 25.0
    assert len(loaded.for_frame("clip_000000.png")) == 1 and loaded.for_frame("clip_000001.png") == []

