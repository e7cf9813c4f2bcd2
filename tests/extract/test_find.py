"""Detection and landmarks on real faces: the astronaut under transforms, lfw_subset recall."""
import cv2
import numpy as np
import pytest

from phaze.errors import ConfigError, WeightsError
from phaze.extract import weights
from phaze.extract.detectors import ALIGNERS, DETECTORS
from phaze.extract.find import FindConfig, map_points, rotation_matrix

from face_checks import landmark_error


def test_reference_face_has_plausible_landmarks(astronaut, reference_landmarks):
    # The astronaut's eyes are around y = 100 in the 512 px photo, the mouth below them.
    assert reference_landmarks.shape == (68, 2)
    assert 80 < reference_landmarks[36:48, 1].mean() < 125
    assert reference_landmarks[48:60, 1].mean() > reference_landmarks[36:48, 1].mean() + 20


@pytest.mark.parametrize("degrees", [30, -30, 90, -90, 180])
def test_rotated_face_is_found_and_mapped_back(astronaut, finder, reference_landmarks, degrees):
    matrix, size = rotation_matrix(astronaut.shape, degrees)
    rotated = cv2.warpAffine(astronaut, matrix, size)
    faces = finder.find(rotated)
    assert len(faces) == 1
    truth = map_points(matrix, reference_landmarks)
    assert landmark_error(faces[0].landmarks, truth) < 0.05
    # The box maps back around the landmarks.
    box = faces[0].box
    assert box.left < truth[:, 0].mean() < box.right and box.top < truth[:, 1].mean() < box.bottom


def test_right_angle_rotations_are_found_by_the_retry(astronaut, finder):
    faces = finder.find(np.ascontiguousarray(np.rot90(astronaut)))
    assert [face.rotation for face in faces] in ([90], [-90])


def test_flipped_face_is_found(astronaut, finder, reference_landmarks):
    flipped = np.ascontiguousarray(astronaut[:, ::-1])
    faces = finder.find(flipped)
    assert len(faces) == 1
    mirrored = reference_landmarks.copy()
    mirrored[:, 0] = astronaut.shape[1] - 1 - mirrored[:, 0]
    # Left/right swap the landmark order; compare the eye centres and the chin, which mirror.
    found = faces[0].landmarks
    for part in (slice(36, 48), slice(8, 9), slice(27, 36)):
        assert np.linalg.norm(found[part].mean(0) - mirrored[part].mean(0)) < 0.05 * 44


@pytest.mark.parametrize("scale", [0.35, 0.6, 1.4, 2.0])
def test_scaled_face_is_found(astronaut, finder, reference_landmarks, scale):
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(astronaut, None, fx=scale, fy=scale, interpolation=interpolation)
    faces = finder.find(scaled)
    assert len(faces) == 1
    # cv2.resize maps pixel centres: x' = (x + 0.5) * s - 0.5.
    truth = (reference_landmarks + 0.5) * scale - 0.5
    assert landmark_error(faces[0].landmarks, truth) < 0.05


def test_lfw_subset_recall_and_false_positives(finder):
    from skimage import data
    images = data.lfw_subset()   # 100 faces then 100 non-faces, 25x25 grey in [0, 1]
    # The 25 px crops are upscaled and padded so the HOG window (80 px) fits a whole face.
    finder = finder.with_config(FindConfig(rotations=(), upsample=0))
    found = []
    for image in images:
        grey = cv2.resize((image * 255).astype(np.uint8), None, fx=4, fy=4,
                          interpolation=cv2.INTER_CUBIC)
        grey = cv2.copyMakeBorder(grey, 30, 30, 30, 30, cv2.BORDER_REPLICATE)
        found.append(bool(finder.find(np.repeat(grey[..., None], 3, axis=2))))
    assert sum(found[:100]) >= 90
    assert sum(found[100:]) <= 2


def test_min_size_skips_small_faces(astronaut, finder):
    faces = finder.with_config(FindConfig(min_size_px=120, rotations=())).find(astronaut)
    assert faces == []


def test_threshold_drops_weak_detections(astronaut, finder):
    faces = finder.with_config(FindConfig(threshold=5.0, rotations=())).find(astronaut)
    assert faces == []


def test_blank_frame_has_no_face(finder):
    assert finder.find(np.full((120, 160, 3), 90, np.uint8)) == []


@pytest.mark.parametrize("detector", DETECTORS.names())
def test_every_registered_detector_finds_the_face(astronaut, finder, reference_landmarks,
                                                  detector):
    crop = np.ascontiguousarray(astronaut[0:224, 110:334])   # keeps the CNN run short
    chosen = finder.with_config(FindConfig(detector=detector, rotations=(), upsample=0))
    faces = chosen.find(crop)
    assert len(faces) == 1
    assert landmark_error(faces[0].landmarks, reference_landmarks - [110, 0]) < 0.05


def test_registries_list_builtins_and_refuse_unknown_names():
    assert sorted(DETECTORS.names()) == ["centerface", "cnn", "hog"]
    assert ALIGNERS.names() == ("dlib68",)
    with pytest.raises(ConfigError,
                       match="detector 'nope' is invalid: expected one of: hog, cnn, centerface"):
        FindConfig(detector="nope")


@pytest.mark.parametrize("bad", [dict(min_size_px=-1), dict(upsample=9), dict(rotations=(0,))])
def test_bad_find_options_are_config_errors(bad):
    with pytest.raises(ConfigError):
        FindConfig(**bad)


def test_missing_weights_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(weights.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(WeightsError, match="face-recognition-models"):
        weights.weights_path("landmarks_68")
