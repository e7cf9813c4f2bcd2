"""`phaze train --nproc N`: start N training processes on this machine, as torchrun would.

Each process runs the same `phaze train` command line with torchrun's variables set (through
torch's own elastic launcher, c10d rendezvous on a free local port), so `--nproc 2` and
`torchrun --standalone --nproc-per-node 2 -m phaze train` train the same way.
"""
from __future__ import annotations

import logging
import sys
import uuid
from pathlib import Path

from phaze.errors import ConfigError
from phaze.train.distributed import DistributedError, World

log = logging.getLogger(__name__)


def launch_workers(nproc: int, argv: list[str], model_dir: Path, batch_size: int) -> int:
    """Run `phaze <argv>` in `nproc` processes; the exit code (0: every process finished)."""
    from torch.distributed.elastic.multiprocessing.api import SignalException
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    if nproc < 1:
        raise ConfigError(f"--nproc {nproc} is invalid: expected 1 or more processes")
    World(world_size=nproc, local_world_size=nproc).check_batch_size(batch_size)
    config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc,
                          run_id=uuid.uuid4().hex, rdzv_backend="c10d",
                          rdzv_endpoint="127.0.0.1:0", max_restarts=0, monitor_interval=0.2)
    if not log.isEnabledFor(logging.DEBUG):   # each failure is told once, by describe_failure
        _quiet_launcher_logs()
    log.info("starting %d training processes", nproc)
    try:
        elastic_launch(config, sys.executable)("-m", "phaze", *argv)
    except ChildFailedError as error:
        raise DistributedError(describe_failure(error, model_dir)) from None
    except SignalException as error:
        log.info("stopped by %s", error.sigval.name)
        return 130
    return 0


def _quiet_launcher_logs() -> None:
    # torch's elastic loggers each set their own level when imported, so each is quietened.
    for name in list(logging.root.manager.loggerDict):
        if name.startswith("torch.distributed.elastic"):
            logging.getLogger(name).setLevel(logging.CRITICAL)


def describe_failure(error, model_dir: Path) -> str:
    """One line for the first process that failed (its own error is printed above it)."""
    from phaze.storage.checkpoint import has_checkpoint

    rank, failure = error.get_first_failure()
    if failure.exitcode < 0:
        how = f"was killed by {failure.signal_name()}"
    else:
        how = f"exited with code {failure.exitcode}"
    others = len(error.failures) - 1
    also = f" ({others} more stopped with it)" if others else ""
    kept = (f"the last checkpoint in {model_dir} is kept" if has_checkpoint(model_dir)
            else "nothing was saved")
    return (f"training process rank {rank} (pid {failure.pid}) {how}{also}; the other "
            f"processes were stopped; {kept}")


def without_nproc(argv: list[str]) -> list[str]:
    """The command line each process runs: the same, minus `--nproc N` / `--nproc=N`."""
    kept, skip = [], False
    for token in argv:
        if skip:
            skip = False
        elif token == "--nproc":
            skip = True
        elif not token.startswith("--nproc="):
            kept.append(token)
    return kept
