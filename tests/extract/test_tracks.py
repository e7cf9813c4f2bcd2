"""Face tracks: overlap links faces, cuts/jumps/other people break tracks, misses start segments."""
from dataclasses import dataclass

import numpy as np

from phaze.extract.detectors import Box
from phaze.extract.tracks import TrackConfig, Tracker

FRAME = np.full((120, 160, 3), 100, np.uint8)
OTHER_SHOT = np.full((120, 160, 3), 220, np.uint8)


@dataclass
class Face:
    box: Box
    landmarks: np.ndarray


def face_at(x: float, y: float = 40.0) -> Face:
    points = np.tile([x + 20.0, y + 25.0], (68, 1))
    points[36:42] = [x + 10, y + 15]
    points[42:48] = [x + 30, y + 15]    # eyes 20 px apart
    return Face(Box(x, y, x + 40, y + 50), points)


def test_two_faces_keep_their_tracks_while_moving():
    tracker = Tracker()
    ids = [[link.track_id for link in tracker.update(t, FRAME, [face_at(10 + 2 * t),
                                                               face_at(100 - 2 * t)])]
           for t in range(5)]
    assert ids == [[0, 1]] * 5


def test_a_scene_cut_starts_new_tracks():
    tracker = Tracker()
    first = tracker.update(0, FRAME, [face_at(10)])[0]
    second = tracker.update(1, OTHER_SHOT, [face_at(10)])[0]
    assert first.track_id != second.track_id and tracker.cuts == [1]


def test_a_jump_larger_than_the_limit_starts_a_new_track():
    tracker = Tracker(TrackConfig(max_jump_iod=0.5))
    first = tracker.update(0, FRAME, [face_at(10)])[0]
    second = tracker.update(1, FRAME, [face_at(25)])[0]   # 15 px = 0.75 inter-ocular
    assert first.track_id != second.track_id


def test_a_detector_miss_keeps_the_track_but_starts_a_segment():
    tracker = Tracker()
    first = tracker.update(0, FRAME, [face_at(10)])[0]
    tracker.update(1, FRAME, [])
    third = tracker.update(2, FRAME, [face_at(12)])[0]
    assert first.track_id == third.track_id and first.segment != third.segment


def test_another_person_in_the_same_place_starts_a_new_track():
    tracker = Tracker(TrackConfig(embed_every=1))
    person = iter([np.zeros(128), np.zeros(128), np.full(128, 0.2), np.full(128, 0.2)])
    ids = [tracker.update(t, FRAME, [face_at(10)], lambda _: next(person))[0].track_id
           for t in range(4)]
    assert ids == [0, 0, 1, 1]


def test_photos_are_never_linked():
    tracker = Tracker(link_frames=False)
    ids = [tracker.update(t, FRAME, [face_at(10)])[0].track_id for t in range(3)]
    assert ids == [0, 1, 2]
