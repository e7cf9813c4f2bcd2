"""No process a test starts may outlive it: the test that leaks one fails, naming itself.

Each test runs with a tag of its own in the environment, which every process it starts (and
theirs, even once re-parented) inherits. After the test, any process still carrying the tag is
killed with its process group and the test fails. Processes started by module- or
session-scoped fixtures carry this process's session tag and are checked when the session
ends. Linux only (/proc); elsewhere nothing is checked.
"""
from __future__ import annotations

import contextlib
import itertools
import os
import signal
import time
from pathlib import Path

import pytest

TAG = "PHAZE_TEST_PROCESS_TAG"
GRACE_S = 5.0   # a process that was just told to end may take a moment to exit
_PROC = Path("/proc")
_counter = itertools.count()


def tagged_processes(tag: str) -> list[int]:
    """The live processes (not zombies, not this one) whose environment holds `tag`."""
    needle = f"\0{TAG}={tag}\0".encode()
    found = []
    for entry in _PROC.iterdir() if _PROC.is_dir() else ():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        with contextlib.suppress(OSError):
            if needle in b"\0" + (entry / "environ").read_bytes():
                found.append(int(entry.name))
    return found


def _describe(pid: int) -> str:
    try:
        command = (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        command = "?"
    return f"pid {pid}: {command.strip()[:120]}"


def end_leaked(tag: str) -> list[str]:
    """Wait a little for tagged processes to end, then kill the rest (with their process
    groups, never this one's); descriptions of those that had to be killed."""
    deadline = time.monotonic() + GRACE_S
    while (pids := tagged_processes(tag)) and time.monotonic() < deadline:
        time.sleep(0.1)
    described = [_describe(pid) for pid in pids]
    own_group = os.getpgrp()
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            group = os.getpgid(pid)
            if group != own_group:
                os.killpg(group, signal.SIGKILL)
            else:
                os.kill(pid, signal.SIGKILL)
    return described


def _session_tag() -> str:
    return f"{os.getpid()}-session"


def pytest_configure(config: pytest.Config) -> None:
    # An xdist controller runs no test; its workers tag their own processes.
    if getattr(config.option, "numprocesses", None) and not hasattr(config, "workerinput"):
        return
    os.environ[TAG] = _session_tag()


@pytest.fixture(autouse=True)
def _no_process_outlives_its_test(request: pytest.FixtureRequest):
    if TAG not in os.environ:
        yield
        return
    tag = f"{os.getpid()}-{next(_counter)}"
    os.environ[TAG] = tag
    try:
        yield
    finally:
        os.environ[TAG] = _session_tag()
    leaked = end_leaked(tag)
    if leaked:
        pytest.fail(f"{request.node.nodeid} left {len(leaked)} process(es) running (now "
                    f"killed): " + "; ".join(leaked), pytrace=False)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if os.environ.get(TAG) != _session_tag():
        return
    leaked = end_leaked(_session_tag())
    if leaked:
        print(f"\nprocesses started by fixtures outlived the session (now killed): "
              + "; ".join(leaked))
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
