import json

import numpy as np
import pytest

from phaze.convert.alignments import load_alignments
from phaze.errors import DataError


def test_reads_the_layout_extract_writes(tmp_path):
    points = np.arange(136, dtype=float).reshape(68, 2)
    document = {"__meta__": {"format": "phaze-alignments", "version": 1, "is_video": True,
                             "fps": 25.0, "frame_count": 3},
                "frames": {"clip_000001.png": {"dims": [8, 8], "faces": [
                    {"x": 0, "y": 0, "w": 4, "h": 4, "score": 1, "rotation": 0,
                     "landmarks_xy": points.tolist()}]}, "clip_000002.png": {"faces": []}}}
    path = tmp_path / "a.json"
    path.write_text(json.dumps(document))
    alignments = load_alignments(path)
    assert (alignments.frame_count, alignments.fps) == (3, 25.0)
    np.testing.assert_array_equal(alignments.for_frame("clip_000001.png")[0], points)
    assert alignments.for_frame("clip_000002.png") == []


def test_bad_landmarks_are_named(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"frames": {"f.png": {"faces": [{"landmarks_68": [[1, 2]]}]}}}))
    with pytest.raises(DataError, match="bad.json"):
        load_alignments(path)
