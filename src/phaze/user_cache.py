"""Where Phaze keeps what it can rebuild or re-download per user: one root for every cache."""
from __future__ import annotations

import os
from pathlib import Path


def user_cache_dir(name: str) -> Path:
    """`$XDG_CACHE_HOME/phaze/<name>`, else `~/.cache/phaze/<name>` (not created here)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "phaze" / name
