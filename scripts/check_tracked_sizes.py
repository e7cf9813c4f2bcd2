"""Refuse tracked files over 2 MB unless listed as test data: a wheel, a model or an output
committed by accident makes every clone heavier forever.

    python scripts/check_tracked_sizes.py [REPO]     # exit 1, one line per file, if any

Large test data is listed, one path or glob per line (# comments), in .ci/large-test-data.txt.
"""
from __future__ import annotations

import fnmatch
import subprocess
import sys
from pathlib import Path

LIMIT_BYTES = 2 * 1024 * 1024
ALLOWED_LIST = Path(".ci") / "large-test-data.txt"


def allowed_patterns(repo: Path) -> list[str]:
    path = repo / ALLOWED_LIST
    if not path.is_file():
        return []
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return [line for line in lines if line]


def oversized(repo: Path) -> list[str]:
    """One message per tracked file over the limit that is not listed."""
    listed = subprocess.run(["git", "-C", str(repo), "ls-files", "-z"], capture_output=True,
                            check=True).stdout.decode().split("\0")
    patterns = allowed_patterns(repo)
    messages = []
    for name in filter(None, listed):
        path = repo / name
        if not path.is_file() or path.stat().st_size <= LIMIT_BYTES:
            continue
        if any(fnmatch.fnmatch(name, pattern) for pattern in patterns):
            continue
        messages.append(f"tracked file '{name}' is {path.stat().st_size / 1e6:.1f} MB, over "
                        f"the {LIMIT_BYTES // (1024 * 1024)} MB limit: remove it (git rm), or "
                        f"list it in {ALLOWED_LIST} if it is test data")
    return messages


def main(argv: list[str]) -> int:
    messages = oversized(Path(argv[0]) if argv else Path.cwd())
    for message in messages:
        print(f"check: {message}", file=sys.stderr)
    return 1 if messages else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
