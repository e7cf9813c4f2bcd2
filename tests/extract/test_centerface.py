"""CenterFace: registered, one clear line without its model, finds what HOG finds, and tilts."""
import cv2
import numpy as np
import pytest

from phaze.errors import WeightsError
from phaze.extract import weights
from phaze.extract.detectors import DETECTORS
from phaze.extract.find import FaceFinder, FindConfig, five_points, map_points, rotation_matrix

from face_checks import inter_ocular, landmark_error


def test_centerface_is_registered():
    assert "centerface" in DETECTORS.names()


def test_missing_model_is_one_line_naming_the_install_script(monkeypatch, tmp_path):
    monkeypatch.setattr(weights.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError) as error:
        weights.centerface_path({})
    assert "scripts/install_centerface.sh" in str(error.value) and "\n" not in str(error.value)
    with pytest.raises(WeightsError, match="PHAZE_CENTERFACE_ONNX=.*is not a file"):
        weights.centerface_path({"PHAZE_CENTERFACE_ONNX": str(tmp_path / "none.onnx")})


@pytest.fixture(scope="module")
def centerface() -> FaceFinder:
    try:
        weights.centerface_path()
    except WeightsError as error:
        pytest.skip(str(error))
    pytest.importorskip("onnxruntime")
    return FaceFinder(FindConfig(detector="centerface", threshold=0.5, rotations=()))


def test_five_points_sit_on_the_eyes_nose_and_mouth(centerface, astronaut, reference_landmarks):
    detections = [d for d in centerface.detector.detect(astronaut) if d.score > 0.5]
    assert len(detections) == 1
    gaps = np.linalg.norm(detections[0].points5 - five_points(reference_landmarks), axis=1)
    iod = inter_ocular(reference_landmarks)
    assert gaps[:2].max() < 0.05 * iod       # eye centres
    assert gaps.max() < 0.15 * iod           # its mouth corners sit a little inside dlib's


@pytest.mark.parametrize("degrees", [0, 45, 90, -60, 135, 180])
def test_tilted_faces_are_found_with_good_landmarks_without_retries(
        centerface, astronaut, reference_landmarks, degrees):
    matrix, size = rotation_matrix(astronaut.shape, degrees)
    faces = centerface.find(cv2.warpAffine(astronaut, matrix, size))
    assert len(faces) == 1
    assert landmark_error(faces[0].landmarks, map_points(matrix, reference_landmarks)) < 0.05


def test_hog_misses_those_tilts_without_retries(finder, astronaut):
    hog = finder.with_config(FindConfig(rotations=()))
    for degrees in (45, 90, -60, 180):
        matrix, size = rotation_matrix(astronaut.shape, degrees)
        assert hog.find(cv2.warpAffine(astronaut, matrix, size)) == []


def test_small_face_is_found(centerface, astronaut):
    small = cv2.resize(astronaut, None, fx=0.3, fy=0.3, interpolation=cv2.INTER_AREA)
    frame = np.full((480, 480, 3), 120, np.uint8)
    frame[:small.shape[0], :small.shape[1]] = small
    faces = centerface.with_config(FindConfig(detector="centerface", threshold=0.5,
                                              rotations=(), upsample=0)).find(frame)
    assert len(faces) == 1 and faces[0].box.width < 40
