"""Adam step time over ~82 M float32 parameters shaped like `original`'s largest tensors.

Compares torch's fused and foreach Adam with the bfloat16-moment Adam's kernels (native C,
torch.compile, eager torch ops).
Usage: python bench/bf16_moments.py [--steps N] [--variants fused,foreach,native,compile,eager]
"""
from __future__ import annotations

import argparse
import os
import statistics
import time

import torch

from phaze.train.optim.bf16_adam import BFloat16MomentAdam

SHAPES = [(16384, 1024), (1024, 16384), (2048, 1024, 3, 3), (1024, 1024, 3, 3),
          (1024, 1024, 3, 3), (1024, 512, 3, 3), (512, 512, 3, 3), (512, 512, 3, 3),
          (1280, 1024)]


def _optimizer(variant: str, params: list[torch.Tensor]) -> torch.optim.Optimizer:
    if variant in ("fused", "foreach"):
        return torch.optim.Adam(params, lr=5e-5, **{variant: True})
    return BFloat16MomentAdam(params, lr=5e-5, kernel=variant)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--variants", default="fused,foreach,native,compile,eager")
    args = parser.parse_args()
    torch.manual_seed(0)
    params = [torch.randn(shape, requires_grad=True) for shape in SHAPES]
    for param in params:
        param.grad = torch.randn_like(param)
    count = sum(p.numel() for p in params)
    print(f"{count / 1e6:.1f} M parameters, {torch.get_num_threads()} threads, "
          f"load {os.getloadavg()[0]:.2f}")
    for variant in args.variants.split(","):
        optimizer = _optimizer(variant, params)
        optimizer.step()  # state allocation (and compilation) are not timed
        times = []
        for _ in range(args.steps):
            start = time.perf_counter()
            optimizer.step()
            times.append(time.perf_counter() - start)
        state_bytes = sum(t.numel() * t.element_size() for s in optimizer.state.values()
                          for t in s.values() if t.ndim)
        print(f"{variant:9s} median {1000 * statistics.median(times):7.0f} ms/step "
              f"(min {1000 * min(times):.0f}, max {1000 * max(times):.0f}), state "
              f"{state_bytes / 2**30:.2f} GiB, load {os.getloadavg()[0]:.2f}")
        del optimizer


if __name__ == "__main__":
    main()
