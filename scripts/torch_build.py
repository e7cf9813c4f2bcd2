"""Which torch build `scripts/setup.sh` installs: CUDA where an NVIDIA driver answers, CPU
otherwise; `PHAZE_TORCH=cuda|cpu` decides instead. Standard library only: it runs before the
virtual environment has anything in it.

    python scripts/torch_build.py choose          # prints "cpu|cuda<TAB>why"
    python scripts/torch_build.py pulls-cuda F    # exit 0 if pip's --report F installs CUDA
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

CHOICES = ("cpu", "cuda")
# Packages that only a CUDA build of torch brings in (several GB between them).
CUDA_PACKAGE_PREFIXES = ("nvidia-", "triton", "cuda-")


def nvidia_smi_answers(which: Callable[[str], str | None] = shutil.which) -> str | None:
    """The GPU names `nvidia-smi` lists, or None when there is no working driver."""
    program = which("nvidia-smi")
    if program is None:
        return None
    try:
        result = subprocess.run([program, "--query-gpu=name", "--format=csv,noheader"],
                                capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    names = ", ".join(line.strip() for line in result.stdout.splitlines() if line.strip())
    return names if result.returncode == 0 and names else None


def choose(environment: Mapping[str, str],
           detect: Callable[[], str | None] = nvidia_smi_answers) -> tuple[str, str]:
    """(build, why): what `PHAZE_TORCH` asks for, else what the machine has."""
    asked = environment.get("PHAZE_TORCH", "").strip().lower()
    if asked:
        if asked not in CHOICES:
            raise ValueError(f"PHAZE_TORCH={asked!r} is invalid: expected cpu or cuda")
        return asked, f"PHAZE_TORCH={asked}"
    gpus = detect()
    if gpus:
        return "cuda", f"nvidia-smi lists {gpus}"
    return "cpu", "no NVIDIA driver answers (nvidia-smi); set PHAZE_TORCH=cuda to override"


def plan_pulls_cuda(report: Mapping) -> list[str]:
    """The CUDA packages in a `pip install --dry-run --report` plan (empty: a CPU build)."""
    names = [item.get("metadata", {}).get("name", "") for item in report.get("install", [])]
    return sorted(n for n in names if n.lower().startswith(CUDA_PACKAGE_PREFIXES))


def main(argv: list[str]) -> int:
    if argv[:1] == ["choose"]:
        try:
            build, why = choose(os.environ)
        except ValueError as error:
            print(f"setup: error: {error}", file=sys.stderr)
            return 2
        print(f"{build}\t{why}")
        return 0
    if argv[:1] == ["pulls-cuda"] and len(argv) == 2:
        pulled = plan_pulls_cuda(json.loads(Path(argv[1]).read_text(encoding="utf-8")))
        print(" ".join(pulled))
        return 0 if pulled else 1
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
