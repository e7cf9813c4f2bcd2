"""Locate the dlib model files shipped by the `face-recognition-models` package (never downloaded)."""
from __future__ import annotations

import importlib.util
from pathlib import Path

from phaze.errors import WeightsError

PACKAGE = "face_recognition_models"
HOG_NOTE = "built into dlib"
FILES = {
    "cnn": "mmod_human_face_detector.dat",
    "landmarks_68": "shape_predictor_68_face_landmarks.dat",
    "recognition": "dlib_face_recognition_resnet_model_v1.dat",
}


def models_folder() -> Path:
    """The package's `models/` folder, found without importing it (its import needs pkg_resources)."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(f"package {PACKAGE!r} is not installed: it ships the dlib face models; "
                           "install it with `pip install face-recognition-models`")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


def weights_path(key: str) -> Path:
    """Path of one shipped model file (`cnn`, `landmarks_68`, `recognition`); a clear error if it is absent."""
    path = models_folder() / FILES[key]
    if not path.is_file():
        raise WeightsError(f"model file {path} is missing: reinstall face-recognition-models")
    return path
