"""`phaze --help` and other light commands start without torch, OpenCV or timm."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "cv2", "timm", "safetensors")
SRC = str(Path(__file__).resolve().parents[2] / "src")
PROBE = """
import sys
from phaze.cli.main import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print("LOADED", *sorted({name.split(".")[0] for name in sys.modules} & set(%r)))
"""


@pytest.mark.parametrize("command", [["--help"], ["train", "--help"], ["swap", "--help"],
                                     ["export", "--help"], ["presets"], ["options"],
                                     ["summary", "--help"], ["reuse", "--help"]],
                         ids=lambda command: " ".join(command))
def test_light_commands_import_no_heavy_library(command):
    env = dict(os.environ, PYTHONPATH=SRC)
    result = subprocess.run([sys.executable, "-c", PROBE % (HEAVY,), *command], env=env,
                            capture_output=True, text=True, timeout=60)
    *shown, loaded = result.stdout.strip().splitlines()
    assert shown and not result.stderr.strip(), result.stderr   # the command did its job
    assert loaded == "LOADED", f"{' '.join(command)} imported {loaded.split()[1:]}"
