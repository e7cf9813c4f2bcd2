"""Sort a face folder by a measure, and move faces that fall below a limit into rejected/.

Nothing is ever deleted: rejects are moved (a name already in rejected/ gets a numbered
suffix), and sorting renames with a rank prefix that a later sort replaces.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from phaze.errors import ConfigError
from phaze.facesets.duplicates import duplicates_to_drop
from phaze.facesets.folder import REJECTED, FaceSet, FaceStats
from phaze.facesets.identity import identity_scores
from phaze.registry import Registry

RANK_PREFIX = re.compile(r"^\d{5}_(?=.)")


@dataclass(frozen=True)
class SortKey:
    """A per-face value (from all faces: identity needs the whole folder), best first if high."""

    values: Callable[[list[FaceStats]], np.ndarray]
    high_first: bool
    description: str
    needs_identity: bool = False


def _embeddings(faces: list[FaceStats]) -> np.ndarray:
    return np.stack([face.embedding for face in faces])


SORT_KEYS: Registry[SortKey] = Registry("sort key")
SORT_KEYS.add("blur", SortKey(lambda faces: np.array([f.sharpness for f in faces]), True,
                              "sharpest first (variance of the Laplacian over the face)"))
SORT_KEYS.add("identity", SortKey(lambda faces: identity_scores(_embeddings(faces)), True,
                                  "most like the folder's main person first", True))
SORT_KEYS.add("pose", SortKey(lambda faces: np.array([np.hypot(f.pose.yaw, f.pose.pitch)
                                                      for f in faces]), False,
                              "most frontal first (angle from frontal, degrees)"))
for _axis in ("yaw", "pitch", "roll"):
    SORT_KEYS.add(_axis, SortKey(lambda faces, axis=_axis: np.array(
        [getattr(f.pose, axis) for f in faces]), False, f"{_axis} ascending (degrees)"))
SORT_KEYS.add("mouth", SortKey(lambda faces: np.array([f.expression["mouth_open"]
                                                       for f in faces]), False,
                               "mouth most closed first"))
# Measures that --remove-below accepts: those where higher is better.
LIMIT_KEYS = ("blur", "identity")


def ranked(face_set: FaceSet, key: str) -> list[tuple[FaceStats, float]]:
    """The faces with their values, best first (ties keep the name order)."""
    entry = SORT_KEYS.get_entry(key)
    values = entry.values(face_set.faces)
    order = np.argsort(-values if entry.high_first else values, kind="stable")
    return [(face_set.faces[i], float(values[i])) for i in order]


def rename_ranked(ranking: list[tuple[FaceStats, float]]) -> list[Path]:
    """Rename faces to `<rank, 5 digits>_<name>` (replacing an earlier rank prefix)."""
    temporary = []
    for position, (face, _) in enumerate(ranking):   # two steps: no name is taken twice
        staged = face.path.with_name(f".phaze-sort-{position}.tmp")
        os.replace(face.path, staged)
        temporary.append(staged)
    final = []
    for position, ((face, _), staged) in enumerate(zip(ranking, temporary)):
        target = face.path.with_name(f"{position:05d}_{RANK_PREFIX.sub('', face.path.name)}")
        os.replace(staged, target)
        face.path = target
        final.append(target)
    return final


@dataclass(frozen=True)
class Limit:
    """`--remove-below KEY=VALUE` (an absolute value) or `KEY=P%` (the worst P percent)."""

    key: str
    value: float
    percent: bool

    @classmethod
    def parse(cls, text: str) -> "Limit":
        key, sep, value = text.partition("=")
        if not sep or key not in LIMIT_KEYS:
            raise ConfigError(f"--remove-below {text!r} is invalid: expected KEY=VALUE or "
                              f"KEY=PERCENT% with KEY one of {', '.join(LIMIT_KEYS)}")
        percent = value.endswith("%")
        try:
            number = float(value[:-1] if percent else value)
        except ValueError:
            raise ConfigError(f"--remove-below {text!r}: {value!r} is not a number") from None
        if percent and not 0 < number < 100:
            raise ConfigError(f"--remove-below {text!r}: percent must be in (0, 100)")
        return cls(key, number, percent)


def plan_rejects(face_set: FaceSet, limits: list[Limit],
                 remove_duplicates: bool = False) -> dict[Path, str]:
    """Face path → why it goes to rejected/ (the first reason found)."""
    faces, reasons = face_set.faces, {}
    for limit in limits:
        values = SORT_KEYS[limit.key].values(faces)
        cut = float(np.percentile(values, limit.value)) if limit.percent else limit.value
        for face, value in zip(faces, values):
            if value < cut:
                reasons.setdefault(face.path, f"{limit.key} {value:.6g} < {cut:.6g}")
    if remove_duplicates:
        thumbs = np.stack([face.thumb for face in faces])
        sharp = np.array([face.sharpness for face in faces])
        for index in duplicates_to_drop(thumbs, sharp):
            reasons.setdefault(faces[index].path, "near-duplicate of a sharper face")
    return reasons


def move_to_rejected(folder: Path, paths: list[Path]) -> list[Path]:
    """Move `paths` into folder/rejected/ (never overwriting); their new paths."""
    target_folder = folder / REJECTED
    target_folder.mkdir(exist_ok=True)
    moved = []
    for path in paths:
        target, number = target_folder / path.name, 1
        while target.exists():
            target = target_folder / f"{path.stem}.{number}{path.suffix}"
            number += 1
        os.replace(path, target)
        moved.append(target)
    return moved
