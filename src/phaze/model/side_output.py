"""What one side of the model returns: the swapped face and, with `learn_mask`, its mask."""
from __future__ import annotations

from typing import NamedTuple

import torch


class SideOutput(NamedTuple):
    """face (N, 3, R, R) and mask (N, 1, R, R) or None, both in [0, 1] (float32).

    A NamedTuple, so DDP, FSDP and torch.compile see its tensors; `tensors()` drops a missing
    mask for code that wants only real outputs (ONNX graphs, faceswap's output list).
    """

    face: torch.Tensor
    mask: torch.Tensor | None = None

    def tensors(self) -> tuple[torch.Tensor, ...]:
        return (self.face,) if self.mask is None else (self.face, self.mask)
