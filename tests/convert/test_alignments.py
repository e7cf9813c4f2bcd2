import json

import numpy as np
import pytest

from phaze.convert.alignments import load_alignments
from phaze.errors import DataError
from phaze.faces.aligned import AlignedFace
from phaze.formats.alignments_json import Alignments, VideoInfo, write_alignments


def test_reads_the_layout_extract_writes(tmp_path):
    points = np.arange(136, dtype=float).reshape(68, 2)
    document = Alignments(video=VideoInfo(frame_count=3, fps=25.0))
    document.add_frame("clip_000001.png", [AlignedFace("clip_000001.png", 0, 0, 0, 4, 4,
                                                       points, 1.0)])
    document.add_frame("clip_000002.png")
    path = write_alignments(tmp_path / "a.json", document)

    alignments = load_alignments(path)

    assert (alignments.frame_count, alignments.fps) == (3, 25.0)
    np.testing.assert_array_equal(alignments.for_frame("clip_000001.png")[0], points)
    assert alignments.for_frame("clip_000002.png") == []


def test_bad_landmarks_are_named(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"format": "phaze-alignments", "version": 1, "frames": {
        "f.png": [{"box": [0, 0, 1, 1], "landmarks_68": [[1, 2]], "score": 1.0}]}}))
    with pytest.raises(DataError, match="bad.json"):
        load_alignments(path)
