"""faceswap's alignment numbers (mean face, 3D head, centerings, mask parts), loaded once."""
from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from phaze.registry import Registry

CENTERINGS = Registry.of("centering", ("legacy", "face", "head"))


@dataclass(frozen=True)
class AlignmentConstants:
    """The parsed contents of alignment_constants.json (arrays are read-only)."""

    padding_ratio: dict[str, float]          # centering → extract padding ratio
    mean_face_51: np.ndarray                 # (51, 2) unit-square template for landmarks 17..67
    pose_core: tuple[int, ...]               # 26 landmark indices used for solvePnP
    mean_head_26: np.ndarray                 # (26, 3) 3D mean head, same order as pose_core
    camera_matrix: np.ndarray                # (3, 3) camera for solvePnP in unit-square space
    distortion: np.ndarray                   # (4,) zeros
    centres_3d: dict[str, np.ndarray]        # centering → (3,) 3D centre
    mask_parts: dict[str, tuple[tuple[int, int], ...]]  # part → index ranges [start, end)


def _frozen(values: list, dtype: type = np.float64) -> np.ndarray:
    array = np.asarray(values, dtype=dtype)
    array.flags.writeable = False
    return array


@lru_cache(maxsize=1)
def alignment_constants() -> AlignmentConstants:
    """The constants, parsed on first use; the same immutable object afterwards."""
    text = resources.files("phaze.faces").joinpath("alignment_constants.json").read_text()
    raw = json.loads(text)
    camera = raw["camera"]
    focal, (cx, cy) = camera["focal_length"], camera["principal_point"]
    parts = {name: tuple(tuple(r) for r in ranges)
             for name, ranges in raw["mask_parts_68"].items() if name != "about"}
    return AlignmentConstants(
        padding_ratio=dict(raw["extract_padding_ratio"]),
        mean_face_51=_frozen(raw["mean_face_2d_51"]["points"]),
        pose_core=tuple(raw["pose_core_landmarks"]),
        mean_head_26=_frozen(raw["mean_head_3d_26"]["points"]),
        camera_matrix=_frozen([[focal, 0, cx], [0, focal, cy], [0, 0, 1]]),
        distortion=_frozen(camera["distortion"]),
        centres_3d={k: _frozen(v) for k, v in raw["centering_3d_centres"].items()},
        mask_parts=parts,
    )
