"""The spatial loss under a per-pixel weight map (`phaze.data.loss_weights.loss_weight_map`)."""
from __future__ import annotations

import torch
from torch import Tensor


def weighted_mean(loss_map: Tensor, weights: Tensor) -> Tensor:
    """mean(loss_map × weights): loss_map (N, C, H, W), weights (N, 1, H, W) broadcast over C.

    Not normalised by the mask's area, exactly as faceswap sums it, so a
    pixel with weight 0 contributes nothing and one with weight 3 counts three times.
    """
    if weights.dim() != 4 or weights.shape[1] != 1 or weights.shape[0] != loss_map.shape[0] \
            or weights.shape[2:] != loss_map.shape[2:]:
        raise ValueError(f"weights {tuple(weights.shape)} do not fit loss map "
                         f"{tuple(loss_map.shape)}; expected (N, 1, H, W)")
    with torch.autocast(loss_map.device.type, enabled=False):
        return (loss_map.float() * weights.float()).mean()
