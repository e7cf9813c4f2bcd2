"""Occlusion segmenter speed on this machine: inference and training faces/s at the default size.

Usage: python bench/mask_speed.py [--threads N] [--seconds S]
Reports faces/s for inference (batch 32, float32) and for training steps (batch 16, with the
synthetic-occlusion batches built on the fly), and the CPU time per face, which a shared machine
does not distort (the idle-core figure assumes the threads scale, an upper bound).
Random weights: speed does not depend on them.
"""
from __future__ import annotations

import argparse
import os
import time

import numpy as np
import torch

from phaze.masks.dataset import MaskFace, make_batch
from phaze.masks.network import Segmenter, SegmenterConfig, parameter_count
from phaze.masks.occluders import OccluderConfig
from phaze.masks.training import segmentation_loss


def _rate(step, faces_per_call: int, seconds: float) -> tuple[float, float]:
    """(faces/s of wall time, CPU seconds per face): on a shared machine the second says what
    the work costs, the first what this run got."""
    step()  # warm-up
    calls, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        step()
        calls += 1
    faces = calls * faces_per_call
    return faces / (time.perf_counter() - start), (time.process_time() - cpu) / faces


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=torch.get_num_threads())
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    config = SegmenterConfig()
    model = Segmenter(config)
    size = config.size_px
    rng = np.random.default_rng(0)
    target = np.zeros((size, size), np.float32)
    target[20:110, 25:105] = 1
    faces = [MaskFace(rng.integers(0, 255, (size, size, 3), dtype=np.uint8), target, None,
                      False) for _ in range(16)]
    images = torch.rand(32, 3, size, size)
    model.eval()

    def infer() -> None:
        with torch.inference_mode():
            torch.sigmoid(model(images))

    inference = _rate(infer, 32, args.seconds)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3)

    def train() -> None:
        batch, targets, weights = make_batch(faces, range(16), rng, OccluderConfig(),
                                             [f.image for f in faces], 4.0)
        logits = model(torch.from_numpy(batch).permute(0, 3, 1, 2).float().div_(255.0))
        loss = segmentation_loss(logits, torch.from_numpy(targets)[:, None],
                                 torch.from_numpy(weights))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    training = _rate(train, 16, args.seconds)
    print(f"segmenter {size} px, {parameter_count(model) / 1e6:.2f} M parameters, "
          f"{args.threads} threads, load average {os.getloadavg()[0]:.1f}")
    for name, (rate, cpu) in (("inference", inference), ("training", training)):
        print(f"  {name}: {rate:.1f} faces/s wall, {cpu * 1000:.0f} CPU-ms per face "
              f"(= {args.threads / cpu:.0f} faces/s on {args.threads} idle cores)")


if __name__ == "__main__":
    main()
