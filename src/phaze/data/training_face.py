"""What one training face holds at the working size: image, face mask, eye/mouth areas, landmarks.

Built once per face from its framed form (`phaze.data.sources.framing`), so augmentation only
moves ready-made planes: the masks go through the same geometry as the image, and the
landmarks through the same matrices.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from phaze.data.sources.framing import FramedFace
from phaze.faces.masks import LANDMARK_MASKS, eye_mask, mouth_mask
from phaze.registry import Registry

# Where a face's mask came from, for the load summary.
MaskSource = str  # "extended" | "components" | "stored" | "folder" | "occlusion" | "none"


@dataclass(frozen=True)
class TrainingFace:
    image: np.ndarray                 # (S, S, 3) uint8 RGB
    face_mask: np.ndarray | None      # (S, S) uint8, 255 = face
    areas: np.ndarray | None          # (S, S, 2) uint8 eye and mouth areas (from landmarks)
    landmarks: np.ndarray | None      # (68, 2) float32 px
    mask_source: MaskSource = "none"


def build_training_face(framed: FramedFace, mask_type: str) -> TrainingFace:
    """The face with the mask `mask_type` asks for; see MASK_TYPES."""
    size = framed.image.shape[0]
    mask, source = choose_face_mask(framed, mask_type)
    areas = None
    if framed.landmarks is not None:
        areas = np.stack([_to_uint8(eye_mask(framed.landmarks, size)),
                          _to_uint8(mouth_mask(framed.landmarks, size))], axis=-1)
    return TrainingFace(framed.image, mask, areas, framed.landmarks, source)


# mask type → where to look, in order; the first that has a mask wins. "landmarks:<name>" draws
# that landmark mask; "occlusion" is the folder mask that `phaze mask apply` wrote.
MASK_LOOKUP: Registry[tuple[str, ...]] = Registry("mask type")
MASK_LOOKUP.add("extended", ("landmarks:extended", "stored", "folder"))
MASK_LOOKUP.add("components", ("landmarks:components", "stored", "folder"))
MASK_LOOKUP.add("stored", ("stored",))
MASK_LOOKUP.add("folder", ("folder",))
MASK_LOOKUP.add("occlusion", ("occlusion", "landmarks:extended", "stored"))
MASK_LOOKUP.add("none", ())


def choose_face_mask(framed: FramedFace, mask_type: str) -> tuple[np.ndarray | None, MaskSource]:
    """(mask, where it came from). Landmark masks fall back to a stored, then a folder mask."""
    for source in MASK_LOOKUP.get_entry(mask_type):
        mask = _mask_from(framed, source)
        if mask is not None:
            return mask, source.removeprefix("landmarks:")
    return None, "none"


def _mask_from(framed: FramedFace, source: str) -> np.ndarray | None:
    if source.startswith("landmarks:"):
        if framed.landmarks is None:
            return None
        draw = LANDMARK_MASKS[source.removeprefix("landmarks:")]
        return _to_uint8(draw(framed.landmarks, framed.image.shape[0]))
    if source == "stored":
        return framed.stored_mask
    return framed.folder_mask   # "folder" and "occlusion"


def _to_uint8(mask: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(mask * 255.0), 0, 255).astype(np.uint8)
