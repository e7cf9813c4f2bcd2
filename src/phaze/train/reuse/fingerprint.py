"""Digests that prove every recipe started alike: per sub-model weights, and the first batch."""
from __future__ import annotations

import hashlib
from typing import Mapping

import torch

from phaze.data.loader import StreamPosition, make_training_batches


def tensors_digest(tensors: Mapping[str, torch.Tensor]) -> str:
    """One hash of named tensors (names, shapes, dtypes and exact bytes), in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype};".encode())
        digest.update(tensor.view(torch.uint8).numpy().tobytes() if tensor.numel() else b"")
    return digest.hexdigest()


def submodel_digests(weights: Mapping[str, torch.Tensor],
                     names: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Digest of each sub-model's tensors in a flat state dict (`encoder.conv.weight`, ...)."""
    return {name: tensors_digest({key[len(name) + 1:]: value for key, value in weights.items()
                                  if key.startswith(name + ".")}) for name in names}


def first_batch_digest(trainer) -> str:
    """Digest of batch 0 of the stream `trainer` will train on (same faces, seed, augmentation
    and batch size give the same digest)."""
    config = trainer.config
    stream = make_training_batches(trainer.facesets["a"], trainer.facesets["b"],
                                   trainer.model.input_size, trainer.model.output_size,
                                   config.batch_size, config.augment, workers=0,
                                   seed=config.seed, position=StreamPosition(0, 0, 1),
                                   weighting=trainer.weighting)
    batch = next(iter(stream))
    return tensors_digest({f"{side}.{field}": value for side, side_batch in batch.items()
                           for field, value in vars(side_batch).items()
                           if isinstance(value, torch.Tensor)})
