"""Head pose signs: right-turned real faces have yaw > 0, mirrors flip yaw and roll."""
import cv2
import numpy as np
import pytest

from phaze.facesets.folder import read_face_set
from phaze.facesets.pose import head_pose
from phaze.formats.faceswap_png import face_from_metadata, read_metadata


def nose_offset(landmarks: np.ndarray) -> float:
    """Nose tip's offset from the middle of the jaw line, as a fraction of the face width: a
    plain picture-level cue of which way a face is turned (positive: towards the image's right)."""
    left, right = landmarks[0, 0], landmarks[16, 0]
    return (landmarks[30, 0] - (left + right) / 2) / (right - left)


def test_yaw_sign_matches_the_turn_of_real_faces(lively_faces):
    turned = []
    for path in sorted(lively_faces.glob("*.png")):
        landmarks = face_from_metadata(read_metadata(path)).landmarks
        cue = nose_offset(landmarks)
        if abs(cue) > 0.07:
            turned.append((np.sign(cue), np.sign(head_pose(landmarks).yaw)))
    assert {cue for cue, _ in turned} == {-1.0, 1.0}   # turned both ways in this clip
    assert all(cue == yaw for cue, yaw in turned)


def test_mirrored_face_flips_yaw_and_roll_and_keeps_pitch(astronaut_faces):
    poses = {path.stem: head_pose(face_from_metadata(read_metadata(path)).landmarks)
             for path in astronaut_faces.glob("*.png")}
    upright, mirrored = poses["astronaut_000_0"], poses["astronaut_002_0"]
    assert mirrored.yaw == pytest.approx(-upright.yaw, abs=2.5)
    assert mirrored.roll == pytest.approx(-upright.roll, abs=1.5)
    assert mirrored.pitch == pytest.approx(upright.pitch, abs=2.5)


def test_clockwise_tilt_on_screen_is_positive_roll(astronaut_faces):
    path = sorted(astronaut_faces.glob("*.png"))[0]
    landmarks = face_from_metadata(read_metadata(path)).landmarks
    centre = tuple(landmarks.mean(0))
    clockwise = cv2.getRotationMatrix2D(centre, -20, 1.0)   # OpenCV: positive is anticlockwise
    tilted = landmarks @ clockwise[:, :2].T + clockwise[:, 2]
    assert head_pose(tilted).roll == pytest.approx(head_pose(landmarks).roll + 20, abs=0.5)


def test_folder_reports_yaw_spread_of_a_lively_clip(lively_faces):
    yaws = [face.pose.yaw for face in read_face_set(lively_faces).faces]
    assert max(yaws) - min(yaws) > 20
