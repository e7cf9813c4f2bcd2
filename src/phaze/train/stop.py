"""Ctrl-C and SIGTERM stop training after the current step, saving first, on any launch.

A process inherits its signal dispositions: one started in the background by a script or a
non-interactive shell (`phaze train ... &`, `nohup`, a test runner launched that way) starts
with SIGINT *ignored*, and Python then installs no KeyboardInterrupt handler, so a Ctrl-C or
the web page's Stop would be lost. So the trainer sets its own handlers for both signals and
never relies on what it inherited. docker, systemd and a plain `kill` send SIGTERM: it means
the same as Ctrl-C.
"""
from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Iterator

logger = logging.getLogger(__name__)

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def interrupt_on_stop_signals() -> None:
    """Until training runs, both signals interrupt at once (nothing to save yet)."""
    if threading.current_thread() is threading.main_thread():
        for sig in STOP_SIGNALS:
            signal.signal(sig, _interrupt)


class StopRequest:
    """Set by the first Ctrl-C or SIGTERM this process receives while training."""

    def __init__(self) -> None:
        self.requested = False
        self.signal_name: str | None = None
        self._pid = os.getpid()

    def handle(self, signum: int, _frame) -> None:
        if os.getpid() != self._pid:
            return   # a forked data-loader worker: the training process ends it
        name = signal.Signals(signum).name
        if self.requested:
            logger.warning("%s again: still finishing the current step, then saving (to stop "
                        "without saving: kill -9 %d)", name, os.getpid())
            return
        self.requested, self.signal_name = True, name
        logger.info("%s received: stopping after the current step, saving first", name)


@contextlib.contextmanager
def stop_requests() -> Iterator[StopRequest | None]:
    """While training, a stop signal only sets `requested`; the loop checks it after each step.

    Raising at once would stop at an arbitrary point of a step: half-way through an optimiser
    update, or, on several processes, where the gradient all-reduce or a sharded save waits
    for the others forever. After each step all processes ask whether any of them was asked
    to stop, and stop together. Yields None outside the main thread (signals cannot be
    handled there).
    """
    if threading.current_thread() is not threading.main_thread():
        yield None
        return
    request = StopRequest()
    previous = {sig: signal.signal(sig, request.handle) for sig in STOP_SIGNALS}
    try:
        yield request
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
