"""Where the faceswap reference fixtures live: `../shared/fixtures/faceswap` beside the repo."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

# PHAZE_FACESWAP_FIXTURES overrides the location (e.g. a git worktree that has no ../shared).
FIXTURES = Path(os.environ.get("PHAZE_FACESWAP_FIXTURES")
                or Path(__file__).resolve().parents[1] / ".." / "shared" / "fixtures" / "faceswap")
CASES = ("c01", "c02", "c03", "c04", "c05", "c06", "c07", "c08", "c09", "c10", "c11", "c12",
         "c15", "c16", "c17")


def case_dir(case: str) -> Path:
    folder = FIXTURES / case
    if not (folder / "phaze_a.keras").is_file():
        pytest.skip(f"faceswap fixture {case} not found under {FIXTURES} (needs the shared/ "
                    "folder beside the repository)")
    return folder
