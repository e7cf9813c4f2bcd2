"""Where the real talking-head clips live (`../shared/realvideo` beside the repo); their frames."""
from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

REALVIDEO = Path(os.environ.get("PHAZE_REALVIDEO")
                 or Path(__file__).resolve().parents[1] / ".." / "shared" / "realvideo")


def clip_path(name: str) -> Path:
    path = REALVIDEO / name
    if not path.is_file():
        pytest.skip(f"real clip {name} not found under {REALVIDEO} (needs the shared/ folder "
                    "beside the repository)")
    return path


def clip_frames(name: str, count: int, step: int = 1, size_px: int | None = None
                ) -> list[np.ndarray]:
    """The first `count` frames (every `step`-th) of a real clip, optionally resized square."""
    from phaze.io.video import open_frames
    _, frames = open_frames(clip_path(name), step)
    result = []
    for frame in frames:
        image = frame.image
        if size_px:
            image = cv2.resize(image, (size_px, size_px), interpolation=cv2.INTER_AREA)
        result.append(image)
        if len(result) == count:
            break
    return result
