"""Procedural faces of two stylised people, so Phaze can train and preview with no data at all."""
from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from phaze.data.faceset import FaceSet
from phaze.data.synthetic_draw import FaceVariation, draw_face, draw_face_mask
from phaze.io.images import write_image

RGB = tuple[int, int, int]


@dataclass(frozen=True)
class SyntheticIdentity:
    """What stays fixed for one person. Lengths are in face half-heights (chin = +1, top = -1)."""

    skin_rgb: RGB
    hair_rgb: RGB
    iris_rgb: RGB
    lip_rgb: RGB
    face_width: float  # half-width of the face oval
    jaw_taper: float  # 0 = round jaw, towards 1 = pointed chin
    hairline_y: float  # lower edge of the fringe (-1 = no fringe, 0 = down to the eyes)
    hair_length: float  # how far hair falls behind the head (0 = short)
    eye_width: float  # half-width of one eye
    eye_spacing: float  # distance of each eye from the centre line
    brow_arch: float  # how much the middle of a brow rises above its ends
    brow_thickness: float
    brow_tilt: float  # > 0 puts the inner end lower (a stern look)
    nose_length: float
    nose_width: float
    mouth_width: float
    lip_thickness: float
    moustache: bool


# Two people who differ in what a viewer notices first: colouring, face shape, hair, features.
IDENTITIES: dict[str, SyntheticIdentity] = {
    "a": SyntheticIdentity(
        skin_rgb=(238, 202, 178), hair_rgb=(226, 186, 92), iris_rgb=(58, 118, 214),
        lip_rgb=(214, 112, 128), face_width=0.66, jaw_taper=0.38, hairline_y=-0.52,
        hair_length=0.9, eye_width=0.17, eye_spacing=0.29, brow_arch=0.07, brow_thickness=0.035,
        brow_tilt=-0.02, nose_length=0.22, nose_width=0.08, mouth_width=0.2, lip_thickness=0.045,
        moustache=False,
    ),
    "b": SyntheticIdentity(
        skin_rgb=(142, 92, 62), hair_rgb=(28, 24, 24), iris_rgb=(64, 150, 62),
        lip_rgb=(118, 58, 52), face_width=0.86, jaw_taper=0.06, hairline_y=-0.78,
        hair_length=0.0, eye_width=0.14, eye_spacing=0.34, brow_arch=0.0, brow_thickness=0.075,
        brow_tilt=0.035, nose_length=0.3, nose_width=0.16, mouth_width=0.28, lip_thickness=0.06,
        moustache=True,
    ),
}


def get_identity(identity: str) -> SyntheticIdentity:
    """The preset for `identity` ("a" or "b"), or a clear error naming the allowed values."""
    try:
        return IDENTITIES[identity.lower()]
    except KeyError:
        raise ValueError(f"Unknown synthetic identity {identity!r}; "
                         f"choose one of {sorted(IDENTITIES)}.") from None


def sample_variation(rng: np.random.Generator) -> FaceVariation:
    """Pose, expression, lighting and background; the same distributions for every identity."""
    blink = rng.random() < 0.12
    return FaceVariation(
        roll_deg=float(np.clip(rng.normal(0.0, 8.0), -20.0, 20.0)),
        yaw=rng.uniform(-1.0, 1.0),
        scale=rng.uniform(0.9, 1.08),
        shift=tuple(rng.uniform(-0.04, 0.04, size=2)),
        mouth_open=0.0 if rng.random() < 0.5 else rng.uniform(0.0, 1.0),
        smile=rng.uniform(-0.4, 1.0),
        brow_raise=rng.uniform(0.0, 1.0),
        eye_open=rng.uniform(0.0, 0.3) if blink else rng.uniform(0.6, 1.0),
        light_angle=rng.uniform(0.0, 2 * np.pi),
        light_strength=rng.uniform(0.0, 0.45),
        brightness=rng.uniform(0.75, 1.15),
        background_rgb=tuple(tuple(int(v) for v in rng.integers(0, 256, size=3)) for _ in range(3)),
        background_angle=rng.uniform(0.0, 2 * np.pi),
        skin_jitter=tuple(rng.uniform(0.95, 1.05, size=3)),
        noise_seed=int(rng.integers(0, 2**31)),
    )


def _image_rng(identity: str, seed: int, index: int) -> np.random.Generator:
    # Keyed by index, so face i does not depend on how many faces are rendered; crc32 (not hash())
    # keeps the identity's stream the same in every Python process.
    return np.random.default_rng([seed, zlib.crc32(identity.encode()), index])


def iter_faces(identity: str, count: int, size_px: int,
               seed: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(RGB face (H, W, 3), mask (H, W)) pairs, one at a time, without holding them all."""
    person = get_identity(identity)
    for index in range(count):
        variation = sample_variation(_image_rng(identity.lower(), seed, index))
        yield draw_face(person, variation, size_px), draw_face_mask(person, variation, size_px)


def render_faces(identity: str, count: int, size_px: int,
                 seed: int) -> tuple[np.ndarray, np.ndarray]:
    """`count` uint8 RGB faces (N, H, W, 3) and masks (N, H, W; 255 = face); seeded."""
    faces = np.empty((count, size_px, size_px, 3), dtype=np.uint8)
    masks = np.empty((count, size_px, size_px), dtype=np.uint8)
    for index, (face, mask) in enumerate(iter_faces(identity, count, size_px, seed)):
        faces[index], masks[index] = face, mask
    return faces, masks


def write_faceset(folder: str | Path, identity: str, count: int, size_px: int = 128,
                  seed: int = 0) -> list[Path]:
    """Write faces as PNGs into `folder` and their masks, same names, into `folder/masks/`."""
    folder = Path(folder)
    (folder / "masks").mkdir(parents=True, exist_ok=True)
    paths = []
    for index, (face, mask) in enumerate(iter_faces(identity, count, size_px, seed)):
        path = folder / f"synthetic_{identity.lower()}_{index:05d}.png"
        write_image(path, face)
        write_image(folder / "masks" / path.name, mask)
        paths.append(path)
    return paths


def synthetic_faceset(identity: str, count: int, size_px: int, seed: int = 0) -> FaceSet:
    """An in-memory FaceSet of synthetic faces (the embedded default when no folder is given)."""
    from phaze.data.faceset import load_faceset
    from phaze.data.sources import synthetic_source

    faces, masks = render_faces(identity, count, size_px, seed)
    return load_faceset(synthetic_source(faces, identity, masks), identity, 1, size_px)
