"""dlib's face recognition net and landmark predictor on aligned face crops (from
face-recognition-models, installed with Phaze: nothing is downloaded)."""
from __future__ import annotations

import hashlib
import importlib.util
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from phaze.errors import DataError

RECOGNITION_MODEL = "dlib_face_recognition_resnet_model_v1.dat"
PREDICTOR_5 = "shape_predictor_5_face_landmarks.dat"
PREDICTOR_68 = "shape_predictor_68_face_landmarks.dat"
# dlib's HOG detector misses faces under ~80 px; crops are upscaled to this side first.
DETECT_SIZE_PX = 256


def models_folder() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise DataError("face-recognition-models is not installed: `phaze score` needs it "
                        "(pip install face-recognition-models).")
    return Path(spec.submodule_search_locations[0]) / "models"


@dataclass(frozen=True)
class FaceReading:
    """What dlib saw in one crop: its identity embedding and 68 landmarks (crop px)."""

    embedding: np.ndarray  # (128,) float64
    landmarks: np.ndarray  # (68, 2) float64


class FaceRecognizer:
    """Finds the largest face in a crop and reads it; None where dlib finds no face."""

    def __init__(self) -> None:
        import dlib

        folder = models_folder()
        self._detector = dlib.get_frontal_face_detector()
        self._predictor_5 = dlib.shape_predictor(str(folder / PREDICTOR_5))
        self._predictor_68 = dlib.shape_predictor(str(folder / PREDICTOR_68))
        self._net = dlib.face_recognition_model_v1(str(folder / RECOGNITION_MODEL))

    def read(self, face: np.ndarray) -> FaceReading | None:
        """A uint8 RGB (H, W, 3) crop → its reading, or None when no face is detected."""
        scale = DETECT_SIZE_PX / face.shape[0]
        size = (round(face.shape[1] * scale), DETECT_SIZE_PX)  # cv2 wants (width, height)
        image = np.ascontiguousarray(cv2.resize(
            face, size,
            interpolation=cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA))
        detections = self._detector(image, 0)  # faces fill the crop: no upsampling needed
        if len(detections) == 0:
            return None
        box = max(detections, key=lambda rect: rect.area())
        chip_shape = self._predictor_5(image, box)
        embedding = np.array(self._net.compute_face_descriptor(image, chip_shape))
        shape = self._predictor_68(image, box)
        points = np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64) / scale
        return FaceReading(embedding=embedding, landmarks=points)


class CachingRecognizer:
    """A FaceRecognizer that reads each distinct image once, remembering the latest
    `max_entries` readings.

    Scores that come back to the same faces read them once: every training preview scores the
    same real faces (32 of its 48 readings), every reuse recipe the same held-out faces; only
    the swaps are new each time.
    """

    def __init__(self, recognizer: FaceRecognizer | None = None,
                 max_entries: int = 1024) -> None:
        self._recognizer = recognizer or FaceRecognizer()
        self._cache: OrderedDict[bytes, FaceReading | None] = OrderedDict()
        self.max_entries = max_entries

    def read(self, face: np.ndarray) -> FaceReading | None:
        key = hashlib.sha1(np.ascontiguousarray(face).tobytes()).digest() + \
            str(face.shape).encode()
        if key in self._cache:
            self._cache.move_to_end(key)
            return self._cache[key]
        reading = self._cache[key] = self._recognizer.read(face)
        if len(self._cache) > self.max_entries:
            self._cache.popitem(last=False)
        return reading
