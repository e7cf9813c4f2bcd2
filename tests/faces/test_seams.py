"""The seams convert and extract use: same matrices and masks as the geometry core."""
from __future__ import annotations

import numpy as np

from phaze.extract.detectors import Box
from phaze.extract.face_png import aligned_face_png
from phaze.extract.find import FoundFace
from phaze.faces import convert_geometry
from phaze.faces.aligned import AlignedFace
from phaze.formats.faceswap_png import read_metadata
from phaze.io.images import read_image
from phaze.model_framing import ModelFraming


def test_convert_geometry_matches_aligned_face(landmarks):
    framing = ModelFraming("face", 0.875, 0.05)
    matrix = convert_geometry().crop_matrix(landmarks, 64, framing)
    expected = AlignedFace("f", 0, 0, 0, 1, 1, landmarks).matrix(64, "face", 0.875, 0.05)
    np.testing.assert_allclose(matrix, expected)
    mask = convert_geometry().landmark_mask(landmarks, matrix, 64, "extended")
    assert mask.shape == (64, 64) and mask.dtype == np.float32 and mask[32, 32] == 1.0


def test_extract_face_png_is_head_centred_and_carries_exact_landmarks(tmp_path, landmarks):
    frame = np.full((600, 800, 3), 90, np.uint8)
    face = FoundFace(Box(300, 200, 500, 450), landmarks, 0.9, 0)
    source = {"original_filename": "shot_0.png", "face_index": 0, "source_filename": "shot.jpg",
              "source_is_video": False, "source_frame_dims": (600, 800)}
    path = tmp_path / "shot_0.png"
    path.write_bytes(aligned_face_png(frame, face, 128, source))
    assert read_image(path).shape == (128, 128, 3)
    meta = read_metadata(path)
    np.testing.assert_array_equal(np.array(meta["alignments"]["landmarks_xy"]), landmarks)
    assert meta["source"]["source_filename"] == "shot.jpg"
    assert (meta["alignments"]["x"], meta["alignments"]["w"]) == (300, 200)
