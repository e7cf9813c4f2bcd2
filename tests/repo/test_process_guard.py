"""The process guard itself: a test that leaves a process running is reported and the
process is ended; a test that ends its processes passes."""
from __future__ import annotations

import os
import uuid
from pathlib import Path

pytest_plugins = ["pytester"]

REPO = Path(__file__).resolve().parents[2]

LEAKY = """
import subprocess, sys

def test_leaks_a_process():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)", "{marker}"],
                     start_new_session=True)

def test_ends_its_process():
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    process.kill()
    process.wait()
"""


def _running(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and marker.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


def test_a_leaking_test_is_reported_and_its_process_ended(pytester, monkeypatch):
    marker = f"leak-{uuid.uuid4().hex}"
    pytester.makepyfile(test_leaky=LEAKY.replace("{marker}", marker))
    monkeypatch.setenv("PYTHONPATH", f"{REPO}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")

    result = pytester.runpytest_subprocess("-p", "tests.process_guard", "-p", "no:xdist",
                                           "-p", "no:cacheprovider")

    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*test_leaky.py::test_leaks_a_process left 1 process(es) "
                                 f"running (now killed)*{marker}*"])
    assert _running(marker) == []
