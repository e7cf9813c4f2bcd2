"""What one side of a training batch holds; the trainer passes these, never loose tuples."""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import torch


@dataclass
class SideBatch:
    """One side's batch: float32, images in [0, 1], channels in RGB order.

    A new per-example quantity is one new optional field here: `map_tensors` (and so pinning,
    device moves and DataLoader collation) carries every tensor field without further changes.
    """

    inputs: torch.Tensor  # (N, 3, S, S) warped faces for the encoder
    targets: torch.Tensor  # (N, 3, R, R) unwarped target faces at the output size
    masks: torch.Tensor | None = None  # (N, 1, R, R) face masks, or None when the side has none
    # (N, 1, R, R) per-pixel loss weights >= 0: the face mask plus eyes × 3 and mouth × 2
    # (phaze.data.loss_weights.loss_weight_map), or None for an unweighted loss.
    loss_weights: torch.Tensor | None = None
    # (N,) 1 where the row's mask is real, 0 where the face had none (its mask row is all ones):
    # a learned mask trains only on real ones. None: every row of `masks` is real.
    mask_present: torch.Tensor | None = None

    @property
    def size(self) -> int:
        return self.inputs.shape[0]

    def map_tensors(self, change: Callable[[torch.Tensor], torch.Tensor]) -> SideBatch:
        """A copy with `change` applied to every tensor field (None fields stay None)."""
        return SideBatch(**{field.name: None if (value := getattr(self, field.name)) is None
                            else change(value) for field in dataclasses.fields(self)})

    def pin_memory(self) -> SideBatch:
        """Called by DataLoader(pin_memory=True) so host-to-GPU copies can be asynchronous."""
        return self.map_tensors(torch.Tensor.pin_memory)

    def to(self, device: torch.device | str, non_blocking: bool = False) -> SideBatch:
        return self.map_tensors(lambda tensor: tensor.to(device, non_blocking=non_blocking))

    def rows(self, start: int, stop: int) -> SideBatch:
        """Examples [start, stop): one rank's share of a global batch."""
        return self.map_tensors(lambda tensor: tensor[start:stop])


# Both sides of one step, keyed by side ("a", "b").
PairBatch = dict[str, SideBatch]
