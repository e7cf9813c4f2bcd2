"""Face folders of the astronaut (faceswap PNGs with landmarks) and a tiny mask model."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

from astronaut import write_astronaut_faces
from mask_helpers import TINY, astronaut_landmarks
from phaze.masks.network import Segmenter
from phaze.masks.storage import MaskModelInfo, save_mask_model


@pytest.fixture
def astronaut_faces(tmp_path: Path) -> Path:
    folder = tmp_path / "faces"
    write_astronaut_faces(folder, astronaut_landmarks())
    return folder


@pytest.fixture(autouse=True)
def _float32_one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.set_default_dtype(torch.float32)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def tiny_model(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    folder = tmp_path / "masks_model"
    save_mask_model(folder, Segmenter(TINY), MaskModelInfo(TINY))
    return folder
