"""Which poses and expressions of one face set have no close match in another.

A swap from B onto A's video needs, for every frame of A, B faces in about the same pose with
about the same expression; where B has none, the model has never seen what it must draw. Two
faces "match" when every feature is within its tolerance (yaw and pitch within 10°, mouth and
eye opening within a small fraction of the face), so the report names the gap in words a user
can act on ("no B faces looking 30° right with the mouth open").
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from phaze.facesets.folder import FaceSet, FaceStats
from phaze.facesets.plot import Axis, Series, canvas, scatter, text
from phaze.io.images import encode_image, write_bytes_atomic

# Feature → the difference (its units) within which two faces count as alike.
TOLERANCES = {"yaw": 10.0, "pitch": 10.0, "mouth_open": 0.04, "eyes_open": 0.015}
YAW = Axis("yaw (deg, + = facing right)", -60, 60)
PITCH = Axis("pitch (deg, + = up)", -40, 40)
MOUTH = Axis("mouth opening", 0.0, 0.25)
EYES = Axis("eye opening", 0.0, 0.12)
BLUE, GREEN, RED, LIGHT = (40, 90, 220), (40, 170, 70), (220, 40, 40), (185, 185, 185)


def features(face: FaceStats) -> np.ndarray:
    values = {"yaw": face.pose.yaw, "pitch": face.pose.pitch, **face.expression}
    return np.array([values[name] for name in TOLERANCES])


@dataclass
class Coverage:
    nearest: np.ndarray      # (len A,) index into B of each A face's nearest match
    # (len A,) largest feature difference in units of its tolerance (≤ 1: matched)
    distance: np.ndarray

    @property
    def covered(self) -> np.ndarray:
        return self.distance <= 1.0


def coverage(faces_a: list[FaceStats], faces_b: list[FaceStats]) -> Coverage:
    tolerance = np.array(list(TOLERANCES.values()))
    a = np.stack([features(face) for face in faces_a]) / tolerance
    b = np.stack([features(face) for face in faces_b]) / tolerance
    gaps = np.abs(a[:, None] - b[None]).max(axis=2)   # (A, B) Chebyshev, in tolerances
    nearest = gaps.argmin(axis=1)
    return Coverage(nearest, gaps[np.arange(len(a)), nearest])


def _columns(faces: list[FaceStats]) -> dict[str, np.ndarray]:
    return {"yaw": np.array([f.pose.yaw for f in faces]),
            "pitch": np.array([f.pose.pitch for f in faces]),
            "mouth": np.array([f.expression["mouth_open"] for f in faces]),
            "eyes": np.array([f.expression["eyes_open"] for f in faces])}


def _two_panels(series_pose: list[Series], series_expression: list[Series],
                title: str) -> np.ndarray:
    image = canvas(1000, 540)
    text(image, (12, 22), title, 0.55)
    scatter(image, (0, 40), (500, 500), YAW, PITCH, series_pose, "head pose")
    scatter(image, (500, 40), (500, 500), MOUTH, EYES, series_expression, "expression")
    return image


def report_picture(face_set: FaceSet) -> np.ndarray:
    """One folder's pose and expression spread (RGB)."""
    cols = _columns(face_set.faces)
    return _two_panels([Series(cols["yaw"], cols["pitch"], BLUE, "faces")],
                       [Series(cols["mouth"], cols["eyes"], BLUE, "faces")],
                       f"{face_set.folder.name}: {len(face_set.faces)} faces")


def coverage_picture(set_a: FaceSet, set_b: FaceSet, result: Coverage) -> np.ndarray:
    a, b, ok = _columns(set_a.faces), _columns(set_b.faces), result.covered
    pose = [Series(b["yaw"], b["pitch"], LIGHT, "B", 2),
            Series(a["yaw"][ok], a["pitch"][ok], GREEN, "A, matched in B"),
            Series(a["yaw"][~ok], a["pitch"][~ok], RED, "A, no close B face")]
    expression = [Series(b["mouth"], b["eyes"], LIGHT, "B", 2),
                  Series(a["mouth"][ok], a["eyes"][ok], GREEN, "A, matched in B"),
                  Series(a["mouth"][~ok], a["eyes"][~ok], RED, "A, no close B face")]
    title = (f"A {set_a.folder.name} ({len(ok)}) vs B {set_b.folder.name} "
             f"({len(set_b.faces)}): {int((~ok).sum())} A faces lack a close B face")
    return _two_panels(pose, expression, title)


def coverage_json(set_a: FaceSet, set_b: FaceSet, result: Coverage) -> dict:
    uncovered = []
    for index in np.argsort(-result.distance):
        if result.covered[index]:
            break
        face, match = set_a.faces[index], set_b.faces[result.nearest[index]]
        uncovered.append({"face": face.path.name,
                          **{k: round(float(v), 4) for k, v in zip(TOLERANCES, features(face))},
                          "nearest_b": match.path.name,
                          "distance_in_tolerances": round(float(result.distance[index]), 3)})
    return {"faces_a": str(set_a.folder), "faces_b": str(set_b.folder),
            "count_a": len(set_a.faces), "count_b": len(set_b.faces),
            "covered_fraction": round(float(result.covered.mean()), 4),
            "tolerances": TOLERANCES, "uncovered": uncovered}


def write_picture(path: Path, image: np.ndarray) -> Path:
    return write_bytes_atomic(path, encode_image(image, ".png"))


def write_json(path: Path, data: dict) -> Path:
    return write_bytes_atomic(path, json.dumps(data, indent=1).encode("utf-8"))
