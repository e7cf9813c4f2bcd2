"""The optional track_id of the JSON alignments: written, read back, absent in older files."""
from __future__ import annotations

import json

import numpy as np
import pytest

from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.formats.alignments_json import Alignments, read_alignments, write_alignments

LANDMARKS = np.round(np.random.default_rng(0).uniform(0, 500, (68, 2)), 3)


def _write(tmp_path, track_id) -> dict:
    alignments = Alignments()
    alignments.add_frame("a.png", [AlignedFace("a.png", 0, 1, 2, 30, 40, LANDMARKS, 0.9,
                                               track_id)])
    return json.loads(write_alignments(tmp_path / "al.json", alignments).read_text())


def test_track_id_round_trips(tmp_path):
    _write(tmp_path, 7)
    assert read_alignments(tmp_path / "al.json").frames["a.png"][0].track_id == 7


def test_faces_without_track_have_no_key_and_older_files_still_read(tmp_path):
    raw = _write(tmp_path, None)
    assert "track_id" not in raw["frames"]["a.png"]["faces"][0]
    assert read_alignments(tmp_path / "al.json").frames["a.png"][0].track_id is None


@pytest.mark.parametrize("bad", [-1, "3", 1.5, True])
def test_bad_track_id_is_named(tmp_path, bad):
    raw = _write(tmp_path, 1)
    raw["frames"]["a.png"]["faces"][0]["track_id"] = bad
    (tmp_path / "al.json").write_text(json.dumps(raw))
    with pytest.raises(DataError, match=r"frame 'a.png' face 0: track_id .* must be an integer"):
        read_alignments(tmp_path / "al.json")
