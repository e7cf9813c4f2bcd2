"""uint8 HWC RGB arrays ↔ float NCHW tensors in [0, 1], the form every model consumes."""
from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
import torch

from phaze.errors import DataError


def _check_image(image: np.ndarray, index: int) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise DataError(f"image {index} has shape {tuple(image.shape)} and dtype {image.dtype}: "
                        "expected an (H, W, 3) uint8 RGB array")


def arrays_to_tensor(images: Sequence[np.ndarray] | np.ndarray,
                     size_px: int | None = None) -> torch.Tensor:
    """(H, W, 3) uint8 RGB images → (N, 3, S, S) float32 in [0, 1]; resized with INTER_AREA."""
    batch = []
    for index, image in enumerate(images):
        _check_image(image, index)
        if size_px is not None and image.shape[:2] != (size_px, size_px):
            image = cv2.resize(image, (size_px, size_px), interpolation=cv2.INTER_AREA)
        batch.append(image)
    if not batch:
        raise DataError("no images to convert: the batch is empty")
    if len({image.shape for image in batch}) > 1:
        raise DataError("images have different sizes: pass size_px to resize them")
    stacked = torch.from_numpy(np.stack(batch))             # (N, H, W, 3) uint8
    return stacked.permute(0, 3, 1, 2).float().div_(255.0)  # (N, 3, H, W)


def tensor_to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [0, 1] → (N, H, W, C) uint8, rounded; a 1-channel mask loses its axis."""
    scaled = images.detach().float().clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)
    array = scaled.permute(0, 2, 3, 1).cpu().numpy()        # (N, H, W, C)
    return array[..., 0] if array.shape[-1] == 1 else array
