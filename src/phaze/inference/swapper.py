"""The Swapper: one direction of a trained model, arrays or tensors in, swapped faces out."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from phaze.errors import ConfigError, DataError
from phaze.io.tensors import arrays_to_tensor, tensor_to_uint8
from phaze.model.phaze_a import PhazeA
from phaze.sides import target_side


@dataclass
class SwapResult:
    """Swapped faces (N, R, R, 3) uint8 RGB and, when the model learned one, masks (N, R, R)."""

    faces: np.ndarray
    masks: np.ndarray | None



def check_batch_size(batch_size: int) -> int:
    """`batch_size` itself when it is an integer >= 1, else a ConfigError."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch size {batch_size!r} is invalid: expected an integer >= 1")
    return batch_size


# --- the swapper ------------------------------------------------------------------------------
class Swapper:
    """One direction of a PhazeA model, run batch by batch without autograd.

    Puts `model` in eval mode: Gaussian noise and dropout are training-only.
    """

    def __init__(self, model: PhazeA, direction: str = "a-to-b", batch_size: int = 16,
                 coverage: float = 100.0) -> None:
        # `coverage` < 100 crops aligned faces as training did (`phaze.storage.framing_file`); callers
        # that frame faces themselves (convert) leave it at 100.
        self.coverage = coverage
        self.side = target_side(direction)
        self.direction = direction
        self.batch_size = check_batch_size(batch_size)
        self.model = model.eval()
        first = next(model.parameters())
        self.device, self.dtype = first.device, first.dtype

    @property
    def input_size(self) -> int:
        return self.model.input_size

    @property
    def output_size(self) -> int:
        return self.model.output_size

    @property
    def learns_mask(self) -> bool:
        return self.model.options.learn_mask

    def swap_tensor(self, faces: torch.Tensor) -> list[torch.Tensor]:
        """(N, 3, H, W) float [0, 1] RGB → [face (N, 3, R, R)(, mask (N, 1, R, R))].

        Inputs of another size are area-resized to the encoder size. Results are float32 on
        the input's device.
        """
        if (faces.ndim != 4 or faces.shape[0] == 0 or faces.shape[1] != 3
                or not faces.is_floating_point()):
            raise DataError(f"faces have shape {tuple(faces.shape)} and dtype {faces.dtype}: "
                            "expected (N >= 1, 3, H, W) floats in [0, 1]")
        if faces.shape[-2:] != (self.input_size, self.input_size):
            faces = F.interpolate(faces.float(), size=(self.input_size,) * 2, mode="area")
        chunks: list[list[torch.Tensor]] = []
        with torch.inference_mode():
            for batch in faces.split(self.batch_size):
                batch = batch.to(self.device, self.dtype, non_blocking=True)
                chunks.append([out.float().to(faces.device)
                               for out in self.model.side_forward(batch, self.side)])
        return [torch.cat(parts) for parts in zip(*chunks)]

    def model_inputs(self, images: Sequence[np.ndarray] | np.ndarray) -> torch.Tensor:
        """The (N, 3, S, S) tensor the model sees, cropped and resized exactly as training's
        inputs are (`phaze.data.augment.prepare_plain`): coverage crop, working size, input.
        A face already at the input size (convert aligns at it) goes in untouched."""
        import cv2

        from phaze.data.sources.framing import central_crop

        working = max(self.input_size, self.output_size)
        framed = []
        for index, image in enumerate(images):
            if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
                break  # arrays_to_tensor names the bad image
            image = central_crop(image, self.coverage / 100.0)
            if image.shape[:2] not in ((working, working), (self.input_size, self.input_size)):
                image = cv2.resize(image, (working, working), interpolation=cv2.INTER_AREA)
            framed.append(image)
        else:
            return arrays_to_tensor(framed, self.input_size)
        return arrays_to_tensor(images, self.input_size)

    def swap_arrays(self, images: Sequence[np.ndarray] | np.ndarray) -> SwapResult:
        """(H, W, 3) uint8 RGB images (any size) → swapped faces and masks as uint8 arrays."""
        outputs = self.swap_tensor(self.model_inputs(images))
        masks = tensor_to_uint8(outputs[1]) if len(outputs) > 1 else None
        return SwapResult(tensor_to_uint8(outputs[0]), masks)


def swap_arrays(model: PhazeA, images: Sequence[np.ndarray] | np.ndarray,
                direction: str = "a-to-b", batch_size: int = 16) -> SwapResult:
    """Convenience wrapper: `Swapper(model, direction, batch_size).swap_arrays(images)`."""
    return Swapper(model, direction, batch_size).swap_arrays(images)
