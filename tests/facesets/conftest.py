"""Face folders extracted from real clips and photos, shared by the faceset tests (read-only)."""
from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from phaze.extract.find import FaceFinder, FindConfig
from phaze.extract.pipeline import ExtractConfig, extract_faces
from phaze.io.images import write_image

from realvideo import clip_frames

FACE_PX = 128


@pytest.fixture(scope="session")
def finder() -> FaceFinder:
    return FaceFinder(FindConfig(refeed=1))


def extract_frames(root: Path, name: str, frames, finder: FaceFinder) -> Path:
    """Face PNGs (128 px, with metadata) of each frame, extracted as a folder of photos."""
    photos = root / f"{name}_frames"
    photos.mkdir()
    for number, frame in enumerate(frames):
        write_image(photos / f"{name}_{number:03d}.png", frame)
    faces = root / name
    extract_faces(photos, faces, ExtractConfig(size_px=FACE_PX), finder=finder)
    (faces / "alignments.json").unlink()
    return faces


@pytest.fixture(scope="session")
def woman_faces(tmp_path_factory, finder) -> Path:
    """12 faces of one woman, 10 frames apart (rt_face5)."""
    return extract_frames(tmp_path_factory.mktemp("woman"), "woman",
                          clip_frames("rt_face5_woman_glasses.mp4", 12, step=10), finder)


@pytest.fixture(scope="session")
def lively_faces(tmp_path_factory, finder) -> Path:
    """Faces of one man turning his head both ways (lp_d12, every 6th frame)."""
    return extract_frames(tmp_path_factory.mktemp("lively"), "lively",
                          clip_frames("lp_d12_man_glasses.mp4", 31, step=6), finder)


@pytest.fixture(scope="session")
def astronaut_faces(tmp_path_factory, finder) -> Path:
    from skimage import data
    image = data.astronaut()
    frames = [image, cv2.resize(image, (400, 400)), image[:, ::-1].copy()]
    return extract_frames(tmp_path_factory.mktemp("astronaut"), "astronaut", frames, finder)
