"""extract_faces end to end: a synthetic video with known transforms, a folder with bad files."""
import json

import cv2
import numpy as np
import pytest

from phaze.cli.main import main
from phaze.errors import ConfigError, DataError
from phaze.extract.find import FindConfig, map_points
from phaze.extract.pipeline import ExtractConfig, extract_faces
from phaze.faces.smoothing.centred import SmoothConfig
from phaze.faces.aligned import AlignedFace
from phaze.formats.alignments_json import read_alignments
from phaze.formats.faceswap_png import read_metadata
from phaze.io.images import write_image
from phaze.io.video import write_test_video

from face_checks import landmark_error

FACE_CENTRE = np.array([223.0, 127.0])   # the astronaut's face in the 512 px photo
# (scale, degrees CCW, face centre x, y) per frame; None = a frame without a face.
TRANSFORMS = [(0.9, 0, 160, 90), (0.8, 12, 120, 95), (1.0, -20, 200, 85), None,
              (0.85, 90, 170, 90)]
SIZE = (320, 180)
ALIGN_ONLY = ExtractConfig(write_faces=False)
FACES_128 = ExtractConfig(size_px=128)   # small PNGs keep the test fast


def similarity(scale, degrees, cx, cy) -> np.ndarray:
    matrix = cv2.getRotationMatrix2D(tuple(FACE_CENTRE), degrees, scale)
    matrix[:, 2] += np.array([cx, cy]) - FACE_CENTRE
    return matrix


@pytest.fixture(scope="module")
def synthetic_video(tmp_path_factory, astronaut):
    frames = []
    for transform in TRANSFORMS:
        if transform is None:
            frames.append(np.full((SIZE[1], SIZE[0], 3), 120, np.uint8))
            continue
        frames.append(cv2.warpAffine(astronaut, similarity(*transform), SIZE,
                                     flags=cv2.INTER_AREA, borderValue=(120, 120, 120)))
    return write_test_video(tmp_path_factory.mktemp("synthetic") / "walk.mp4", frames, fps=5)


@pytest.fixture(scope="module")
def video_extract(synthetic_video, tmp_path_factory, finder):
    output = tmp_path_factory.mktemp("faces")
    return extract_faces(synthetic_video, output, FACES_128, finder=finder), output


def test_every_video_frame_is_listed_with_timing(video_extract):
    report, output = video_extract
    alignments = read_alignments(output / "alignments.json")
    assert list(alignments.frames) == [f"walk_{i:06d}.png" for i in range(1, 6)]
    assert (alignments.video.fps, alignments.video.frame_count) == (5.0, 5)
    assert report.frames_read == 5 and report.faces_found == 4
    assert report.frames_without_face == ["walk_000004.png"]
    assert alignments.frames["walk_000004.png"] == []


def test_video_landmarks_follow_the_known_transforms(video_extract, reference_landmarks):
    _, output = video_extract
    frames = read_alignments(output / "alignments.json").frames
    for number, transform in enumerate(TRANSFORMS, start=1):
        if transform is None:
            continue
        faces = frames[f"walk_{number:06d}.png"]
        assert len(faces) == 1, number
        truth = map_points(similarity(*transform), reference_landmarks)
        assert landmark_error(faces[0].landmarks, truth) < 0.05, number
        # ... and in the aligned (head-centred) face, against the face aligned from the truth.
        true_face = AlignedFace("truth", 0, 0, 0, 1, 1, truth)
        assert landmark_error(faces[0].aligned_landmarks(128),
                              true_face.aligned_landmarks(128)) < 0.05, number


def test_face_pngs_are_named_sized_and_carry_faceswap_metadata(video_extract):
    report, output = video_extract
    names = sorted(path.name for path in report.face_files)
    assert names == ["walk_000001_0.png", "walk_000002_0.png", "walk_000003_0.png",
                     "walk_000005_0.png"]
    face_png = output / "walk_000002_0.png"
    assert cv2.imread(str(face_png)).shape == (128, 128, 3)
    metadata = read_metadata(face_png)
    frames = read_alignments(output / "alignments.json").frames
    # The JSON rounds to 1/1000 px; the PNG keeps the floats exactly.
    np.testing.assert_allclose(np.array(metadata["alignments"]["landmarks_xy"]),
                               frames["walk_000002.png"][0].landmarks, atol=6e-4)
    source = metadata["source"]
    assert (source["source_filename"], source["face_index"], source["source_is_video"],
            tuple(source["source_frame_dims"])) == ("walk_000002.png", 0, True, (180, 320))


def test_folder_reports_bad_and_faceless_files_by_name(tmp_path, astronaut, finder):
    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "astronaut.png", cv2.resize(astronaut, (256, 256)))
    write_image(photos / "wall.png", np.full((64, 64, 3), 200, np.uint8))
    (photos / "broken.jpg").write_bytes(b"\xff\xd8 truncated")
    report = extract_faces(photos, tmp_path / "faces", ALIGN_ONLY, finder=finder)
    assert report.skipped == [("broken.jpg", "not a readable image")]
    assert report.frames_without_face == ["wall.png"]
    assert report.faces_found == 1
    assert "skipped broken.jpg: not a readable image" in report.summary()
    frames = read_alignments(report.alignments_path).frames
    assert sorted(frames) == ["astronaut.png", "wall.png"]


def test_rerun_overwrites_alignments_cleanly(video_extract, synthetic_video, finder, tmp_path):
    _, output = video_extract
    target = tmp_path / "custom.json"
    config = ExtractConfig(write_faces=False, every_n=2, alignments_path=target)
    extract_faces(synthetic_video, output, config, finder=finder)
    extract_faces(synthetic_video, output, config, finder=finder)
    frames = json.loads(target.read_text())["frames"]
    assert list(frames) == ["walk_000001.png", "walk_000003.png", "walk_000005.png"]
    assert not [p for p in output.iterdir() if p.name.endswith(".tmp")]


def test_interrupted_run_leaves_no_partial_files(synthetic_video, finder, tmp_path, monkeypatch):
    calls = []

    def find_then_interrupt(image, near=None, scan_whole=True):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return []

    interrupted = finder.with_config(FindConfig())
    monkeypatch.setattr(interrupted, "find", find_then_interrupt)
    with pytest.raises(KeyboardInterrupt):
        extract_faces(synthetic_video, tmp_path / "out", ALIGN_ONLY, finder=interrupted)
    assert list((tmp_path / "out").iterdir()) == []   # no alignments, no temp files


def test_empty_folder_is_reported(tmp_path):
    with pytest.raises(DataError, match="has no images"):
        extract_faces(tmp_path, tmp_path / "out", ALIGN_ONLY)


@pytest.mark.parametrize("bad", [dict(size_px=500), dict(size_px=2048), dict(every_n=0)])
def test_bad_extract_options(bad):
    with pytest.raises(ConfigError):
        ExtractConfig(**bad)


def test_cli_extract_prints_summary(tmp_path, astronaut, capsys):
    photos = tmp_path / "in"
    photos.mkdir()
    write_image(photos / "wall.png", np.full((64, 64, 3), 200, np.uint8))
    code = main(["extract", "--input", str(photos), "--output", str(tmp_path / "out"),
                 "--alignments-only", "--no-progress", "--rotate", "off"])
    assert code == 0
    out = capsys.readouterr().out
    assert "frames read: 1, faces found: 0, frames without a face: 1" in out
    assert "no face in: wall.png" in out


def test_cli_bad_rotate_is_one_line_error(tmp_path, capsys):
    code = main(["extract", "--input", str(tmp_path), "--output", str(tmp_path / "o"),
                 "--rotate", "ninety"])
    assert code == 2
    assert "--rotate 'ninety' is invalid" in capsys.readouterr().err


def test_extracted_faces_train_with_their_landmarks(tmp_path, astronaut, finder,
                                                    reference_landmarks):
    """A face PNG written by extract is a faceswap face source: its landmarks, framed at the
    model's face centering, are the detector's, and it gets the extended mask."""
    from phaze.data.faceset import load_faceset
    from phaze.data.sources import scan_folder
    from phaze.faces.framing import Framing

    photos = tmp_path / "photos"
    photos.mkdir()
    write_image(photos / "astronaut.png", astronaut)
    extract_faces(photos, tmp_path / "faces", FACES_128, finder=finder)
    (record,) = scan_folder(tmp_path / "faces", "a").records
    assert record.kind == "faceswap"
    face = AlignedFace("astronaut.png", 0, 0, 0, 1, 1, reference_landmarks)
    np.testing.assert_allclose(record.landmarks, face.aligned_landmarks(128), atol=0.1)
    faceset = load_faceset(tmp_path / "faces", "a", 1, 64, Framing("face"))
    training = faceset.face(0)
    direct = face.aligned_landmarks(64, Framing("face"))
    np.testing.assert_allclose(training.landmarks, direct, atol=1.0)
    assert training.mask_source == "extended" and training.areas is not None


def test_a_video_is_decoded_once_and_its_pngs_carry_the_smoothed_landmarks(
        tmp_path, astronaut, finder, monkeypatch):
    import phaze.extract.pipeline as pipeline

    frames = [cv2.warpAffine(astronaut, similarity(0.9, 0, 140 + 3 * k, 90), SIZE,
                             flags=cv2.INTER_AREA, borderValue=(120, 120, 120))
              for k in range(12)]
    video = write_test_video(tmp_path / "slide.mp4", frames, fps=25)
    opened, open_frames = [], pipeline.open_frames
    monkeypatch.setattr(pipeline, "open_frames",
                        lambda *args: opened.append(args) or open_frames(*args))
    report = extract_faces(video, tmp_path / "faces", FACES_128, finder=finder)
    assert len(opened) == 1 and len(report.face_files) == 12
    aligned = read_alignments(tmp_path / "faces" / "alignments.json").frames
    raw = extract_faces(video, tmp_path / "raw", ExtractConfig(write_faces=False, smooth=
                                                               SmoothConfig(0)), finder=finder)
    raw_frames = read_alignments(raw.alignments_path).frames
    moved = []
    for path in report.face_files:
        frame = path.name.rsplit("_", 1)[0] + ".png"
        written = np.array(read_metadata(path)["alignments"]["landmarks_xy"])
        np.testing.assert_allclose(written, aligned[frame][0].landmarks, atol=6e-4)
        moved.append(np.abs(written - raw_frames[frame][0].landmarks).max())
    assert max(moved) > 0.05   # smoothing changed the points that were written
