"""`--only-like`: two real people in one video, one kept; bad reference photos, one line each."""
import cv2
import numpy as np
import pytest

from phaze.cli.main import main
from phaze.errors import DataError
from phaze.extract.identity import LikeConfig
from phaze.extract.pipeline import ExtractConfig, extract_faces
from phaze.formats.alignments_json import read_alignments
from phaze.io.images import write_image
from phaze.io.video import write_test_video

from realvideo import clip_frames

KEEP, DROP = "rt_face2_man_tie.mp4", "rt_face5_woman_glasses.mp4"
PER_CLIP, SIZE = 24, 480


@pytest.fixture(scope="module")
def two_people(tmp_path_factory):
    """A 480 px video: 24 frames of a man, then 24 of a woman; a later frame of him as reference."""
    folder = tmp_path_factory.mktemp("two_people")
    keep = clip_frames(KEEP, PER_CLIP + 1, step=4, size_px=SIZE)
    video = write_test_video(folder / "two.mp4",
                             keep[:PER_CLIP] + clip_frames(DROP, PER_CLIP, step=4, size_px=SIZE))
    reference = write_image(folder / "him.png", keep[PER_CLIP])   # not in the video
    return video, reference


@pytest.fixture(scope="module")
def kept(two_people, tmp_path_factory, finder):
    video, reference = two_people
    config = ExtractConfig(write_faces=False, like=LikeConfig((reference,)))
    report = extract_faces(video, tmp_path_factory.mktemp("kept"), config, finder=finder)
    return report, read_alignments(report.alignments_path)


def test_only_the_reference_person_is_kept(kept):
    report, alignments = kept
    frames = list(alignments.frames.values())
    assert len(frames) == 2 * PER_CLIP
    true_positive = sum(len(faces) > 0 for faces in frames[:PER_CLIP])
    false_positive = sum(len(faces) for faces in frames[PER_CLIP:])
    kept_faces = alignments.face_count
    assert kept_faces and true_positive / kept_faces >= 0.98          # precision
    assert true_positive / PER_CLIP >= 0.98                            # recall
    assert false_positive == 0
    assert report.faces_found > report.faces_kept


def test_tracks_are_recorded_and_broken_at_the_cut(kept):
    report, alignments = kept
    track_ids = {face.track_id for faces in alignments.frames.values() for face in faces}
    assert track_ids and None not in track_ids
    assert report.cuts == 1


def test_reference_without_a_face_is_one_clear_line(tmp_path, capsys, two_people):
    video, _ = two_people
    wall = write_image(tmp_path / "wall.png", np.full((200, 200, 3), 90, np.uint8))
    code = main(["extract", "--input", str(video), "--output", str(tmp_path / "out"),
                 "--no-progress", "--only-like", str(wall)])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in error
    assert f"reference photo '{wall}' shows no face" in error


def test_reference_with_two_faces_is_refused(tmp_path, astronaut, finder, two_people):
    video, _ = two_people
    face = cv2.resize(astronaut[:300, 80:380], (240, 240))
    pair = write_image(tmp_path / "pair.png", np.concatenate([face, face], axis=1))
    config = ExtractConfig(write_faces=False, like=LikeConfig((pair,)))
    with pytest.raises(DataError, match="shows 2 faces: expected exactly one face"):
        extract_faces(video, tmp_path / "out", config, finder=finder)
