"""Tracked faces are looked for around their last box; new faces on the periodic whole scans."""
import cv2
import numpy as np

from phaze.extract.detectors import Box
from phaze.extract.find import NEAR_GRID_PX, search_region
from phaze.extract.pipeline import ExtractConfig, extract_faces
from phaze.extract.tracks import TrackConfig
from phaze.formats.alignments_json import read_alignments
from phaze.io.video import write_test_video

from face_checks import landmark_error

FRAME = (960, 540)   # (width, height): a small face in a large frame, where the region pays


def _small_astronaut(astronaut, centre_x: float) -> np.ndarray:
    """The astronaut's face (~110 px box) centred at (centre_x, 200) on a grey 960×540 frame."""
    matrix = cv2.getRotationMatrix2D((223.0, 127.0), 0, 0.9)
    matrix[:, 2] += np.array([centre_x, 200.0]) - [223.0, 127.0]
    return cv2.warpAffine(astronaut, matrix, FRAME, flags=cv2.INTER_AREA,
                          borderValue=(120, 120, 120))


def test_the_region_is_snapped_to_the_grid_and_skipped_when_it_would_cover_the_frame():
    region = search_region([Box(300.5, 100.2, 400.7, 210.0)], (540, 960, 3))
    assert all(value % NEAR_GRID_PX == 0 or value in (540, 960) for value in region)
    left, top, right, bottom = region
    assert left <= 300.5 - 100 and right >= 400.7 + 100 and top == 0 and bottom >= 310
    assert search_region([Box(100, 50, 420, 400)], (540, 960, 3)) is None


def test_a_face_found_near_its_last_box_matches_the_whole_frame_search(astronaut, finder):
    frame = _small_astronaut(astronaut, 300)
    whole = finder.find(frame)
    near = finder.find(frame, near=[whole[0].box])
    assert len(whole) == len(near) == 1
    assert landmark_error(near[0].landmarks, whole[0].landmarks) < 0.05


def test_a_face_that_moved_away_from_the_region_is_found_on_the_whole_frame(astronaut, finder):
    frame = _small_astronaut(astronaut, 750)
    faces = finder.find(frame, near=[Box(100, 150, 210, 260)])   # where it is no longer
    assert len(faces) == 1 and faces[0].box.left > 600


def test_a_face_that_appears_beside_a_tracked_one_is_found_on_the_next_whole_scan(
        tmp_path, astronaut, finder):
    frames = [_small_astronaut(astronaut, 200) for _ in range(8)]
    for number in range(3, 8):   # a second face appears on the right at frame 3
        frames[number] = np.where(frames[number] == 120, _small_astronaut(astronaut, 700),
                                  frames[number]).astype(np.uint8)
    video = write_test_video(tmp_path / "two.mp4", frames, fps=25)
    counts = {}
    for every in (5, 1):
        config = ExtractConfig(write_faces=False, track=TrackConfig(search_every=every))
        report = extract_faces(video, tmp_path / f"every{every}", config, finder=finder)
        frames_found = read_alignments(report.alignments_path).frames
        counts[every] = [len(faces) for faces in frames_found.values()]
    assert counts[1] == [1, 1, 1, 2, 2, 2, 2, 2]
    assert counts[5] == [1, 1, 1, 1, 1, 2, 2, 2]   # found at frame 5, the next whole scan
