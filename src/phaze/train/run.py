"""One `phaze train` run: settings resolved, stop signals handled, the model folder locked, and
training on this process, or on several local ones started by it."""
from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from phaze.train.settings import (RunRequest, face_sources, requested_framing,
                                  requested_options, requested_trainer)


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int    # 0, or 1 when training stopped on non-finite losses or a process failed
    result: Any = None   # this process's TrainResult; None for the launcher and ranks > 0
    group_worker: bool = False   # one process of a torchrun/--nproc group (see end_group_worker)


def end_group_worker(exit_code: int) -> None:
    """End a group's worker process now that its work is saved and its group left.

    At interpreter exit, torch's static C++ objects are destroyed; rarely (seen once in a CI run
    of the two-process tests) one of them still owns a running std::thread and the process
    aborts with "terminate called without an active exception" after a completed run, which the
    launcher must report as a failed rank. Leaving with os._exit skips that teardown.
    """
    import os
    import sys

    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(exit_code)


def run_training(request: RunRequest) -> RunOutcome:
    """Train as `request` asks, on this process or on `request.nproc` local ones."""
    from phaze.train.distributed import World
    from phaze.train.loop import train
    from phaze.train.model_lock import model_folder_lock
    from phaze.train.stop import interrupt_on_stop_signals

    interrupt_on_stop_signals()   # whatever this process inherited (see phaze.train.stop)
    world = World.from_environment()
    if not world.is_main:   # rank 0 speaks for every process
        logging.getLogger().setLevel(logging.ERROR)
    options, trainer = requested_options(request), requested_trainer(request)
    if request.nproc is not None and not world.distributed:
        return RunOutcome(_launch(request, trainer))
    # rank 0 speaks for the folder: one lock per run, whichever process started it
    with model_folder_lock(request.model_dir) if world.is_main else contextlib.nullcontext():
        faces_a, faces_b = face_sources(request)  # after the checks: --demo draws faces
        result = train(faces_a, faces_b, request.model_dir, options, trainer,
                       load_weights=request.load_weights, load_layers=request.load_layers,
                       freeze_layers=request.freeze_layers, framing=requested_framing(request))
    code = 1 if result.stopped == "non_finite" else 0
    return RunOutcome(code, result if world.is_main else None, group_worker=world.distributed)


def _launch(request: RunRequest, trainer) -> int:
    # The settings are checked once here, so a typo is one line, not one per process.
    from phaze.train.in_backward import in_backward_blocker
    from phaze.train.launch import launch_workers, without_nproc
    from phaze.train.model_lock import lock_for_workers
    from phaze.train.speed import resolve_speed

    resolve_speed(trainer.speed, "cpu", None,
                  in_backward_blocker(trainer.optimizer, False, request.nproc))
    with lock_for_workers(request.model_dir):
        return launch_workers(request.nproc, without_nproc(list(request.command_line)),
                              request.model_dir, trainer.batch_size)
