"""Face detectors and landmark aligners (dlib, with the weights face-recognition-models ships).

A detector maps an RGB uint8 frame to scored boxes; an aligner maps a frame and a box to the 68
iBUG points. Both are registered by name, so another (a user-supplied weights file, a neural
aligner) is one `register` call. dlib is imported lazily: `phaze --help` must not need it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Generic, Protocol, TypeVar

import numpy as np

from phaze.extract.weights import weights_path
from phaze.registry import Registry

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A registered detector or aligner: how to build it (loading its weights) and a help line."""

    build: Callable[[], T]
    description: str = ""


@dataclass(frozen=True)
class Box:
    """A detection box in image px: left, top, right, bottom (right/bottom exclusive)."""

    left: float
    top: float
    right: float
    bottom: float

    @property
    def width(self) -> float:
        return self.right - self.left

    @property
    def height(self) -> float:
        return self.bottom - self.top

    def scaled(self, factor: float) -> "Box":
        return Box(self.left * factor, self.top * factor, self.right * factor, self.bottom * factor)

    def corners(self) -> np.ndarray:
        """(4, 2) corner points, clockwise from the top left."""
        return np.array([[self.left, self.top], [self.right, self.top],
                         [self.right, self.bottom], [self.left, self.bottom]], dtype=np.float64)


@dataclass(frozen=True)
class Detection:
    box: Box
    score: float   # the detector's own units; larger is more certain
    # (5, 2) eyes (screen-left first), nose tip, mouth corners in image px, from detectors that
    # give them; they seed the 68-point fit.
    points5: np.ndarray | None = None


class Detector(Protocol):
    def detect(self, image: np.ndarray) -> list[Detection]:
        """All candidate faces in an (H, W, 3) RGB uint8 image, weak ones included."""


class Aligner(Protocol):
    def landmarks(self, image: np.ndarray, box: Box) -> np.ndarray:
        """(68, 2) float64 landmark points in image px for the face in `box`."""


def _rect_to_box(rect) -> Box:
    # dlib rectangles are inclusive; +1 makes right/bottom exclusive like numpy slices.
    return Box(float(rect.left()), float(rect.top()), float(rect.right() + 1),
               float(rect.bottom() + 1))


class HogDetector:
    """dlib's frontal HOG + linear SVM detector: fast on CPU, faces from about 80 px, roughly frontal."""

    def __init__(self) -> None:
        import dlib
        self._detector = dlib.get_frontal_face_detector()

    def detect(self, image: np.ndarray) -> list[Detection]:
        # Threshold -1 returns weak candidates too; the caller filters by its own threshold.
        rects, scores, _ = self._detector.run(np.ascontiguousarray(image), 0, -1.0)
        return [Detection(_rect_to_box(r), float(s)) for r, s in zip(rects, scores)]


class CnnDetector:
    """dlib's MMOD CNN detector: more robust to pose and light, about 50x slower than HOG on CPU."""

    def __init__(self) -> None:
        import dlib
        self._detector = dlib.cnn_face_detection_model_v1(str(weights_path("cnn")))

    def detect(self, image: np.ndarray) -> list[Detection]:
        found = self._detector(np.ascontiguousarray(image), 0)
        return [Detection(_rect_to_box(d.rect), float(d.confidence)) for d in found]


class Dlib68Aligner:
    """dlib's 68-point shape predictor (an ensemble of regression trees trained on iBUG 300-W)."""

    def __init__(self) -> None:
        import dlib
        self._dlib = dlib
        self._predictor = dlib.shape_predictor(str(weights_path("landmarks_68")))

    def landmarks(self, image: np.ndarray, box: Box) -> np.ndarray:
        rect = self._dlib.rectangle(int(round(box.left)), int(round(box.top)),
                                    int(round(box.right)) - 1, int(round(box.bottom)) - 1)
        shape = self._predictor(np.ascontiguousarray(image), rect)
        return np.array([[p.x, p.y] for p in shape.parts()], dtype=np.float64)


def _centerface() -> Detector:
    from phaze.extract.centerface import CenterFaceDetector   # needs onnxruntime: lazy
    return CenterFaceDetector()


def builtin_detectors() -> Registry[Entry[Detector]]:
    detectors: Registry[Entry[Detector]] = Registry("detector")
    detectors.add("hog", Entry(HogDetector, "dlib HOG frontal detector (default, fast)"))
    detectors.add("cnn", Entry(CnnDetector, "dlib MMOD CNN detector (slower, more poses)"))
    detectors.add("centerface", Entry(_centerface, "CenterFace (ONNX): box + 5 points; "
                                                   "profiles, small and tilted faces"))
    return detectors


def builtin_aligners() -> Registry[Entry[Aligner]]:
    aligners: Registry[Entry[Aligner]] = Registry("aligner")
    aligners.add("dlib68", Entry(Dlib68Aligner, "dlib 68-point shape predictor (iBUG 300-W)"))
    return aligners


DETECTORS = builtin_detectors()
ALIGNERS = builtin_aligners()
