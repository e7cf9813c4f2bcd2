"""How many CPU threads torch should use: the cores actually free, not every core.

On a busy machine torch's default (one thread per core) makes each step wait for threads that
the OS has given to other programs; measured in docs/performance.md.
"""
from __future__ import annotations

import contextlib
import math
import os
from collections.abc import Iterator


def usable_cores() -> int:
    """Cores this process may run on (affinity / cgroup-pinned sets), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def default_threads(cores: int | None = None, load: float | None = None) -> int:
    """Usable cores minus those busy with other work (1-minute load average), at least 1."""
    cores = usable_cores() if cores is None else cores
    if load is None:
        try:
            load = os.getloadavg()[0]
        except (AttributeError, OSError):
            load = 0.0
    return max(1, min(cores, cores - math.floor(load)))


@contextlib.contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Use `count` CPU threads (None: leave torch's setting) for the block, then restore: the
    setting is process-wide."""
    import torch

    previous = torch.get_num_threads()
    if count:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
