"""The folders the user named when starting `phaze ui`: every path the page sends must be inside."""
from __future__ import annotations

from pathlib import Path

from phaze.errors import PhazeError


class OutsideFoldersError(PhazeError):
    """A path the page sent lies outside the folders given with --folder."""


class BadRequestError(PhazeError):
    """A value the page sent is malformed (a NUL byte in a path, an unknown preset): HTTP 400."""


class AllowedFolders:
    def __init__(self, folders: list[str | Path]) -> None:
        self.roots = [Path(f).expanduser().resolve() for f in folders]

    def resolve(self, path: str | Path) -> Path:
        """`path` (relative ones are inside the first folder) resolved, if inside a folder."""
        if not self.roots:
            raise OutsideFoldersError("no folders were given: start `phaze ui --folder DIR`")
        try:
            candidate = Path(path).expanduser()
            if not candidate.is_absolute():
                candidate = self.roots[0] / candidate
            resolved = candidate.resolve()   # follows symlinks, so a link cannot lead outside
        except (ValueError, OSError, RuntimeError) as error:   # NUL byte, symlink loop, ...
            raise BadRequestError(f"path {str(path)[:200]!r} is not a usable path: "
                                  f"{error}") from None
        if not any(resolved == root or resolved.is_relative_to(root) for root in self.roots):
            raise OutsideFoldersError(f"path '{path}' is outside the allowed folders: "
                                      + ", ".join(map(str, self.roots)))
        return resolved

    def model_dirs(self) -> list[Path]:
        """Model folders: each named folder and its sub-folders that hold a model."""
        from phaze.storage.checkpoint import is_model_dir

        found = []
        for root in self.roots:
            candidates = [root] + sorted(p for p in root.iterdir() if p.is_dir()) \
                if root.is_dir() else []
            found += [p for p in candidates if is_model_dir(p) or (p / RUN_FILE).is_file()]
        return list(dict.fromkeys(found))


RUN_FILE = "ui_run.json"
