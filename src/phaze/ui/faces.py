"""The Faces page's endpoints: a face folder's gallery, its masks, exclusions and retraining.

Masks and exclusions are stored where training reads them (phaze.data.sources.labels, docs/masks.md);
"retrain the segmenter" runs `phaze mask train --apply` as a child process, one per mask model.
"""
from __future__ import annotations

import base64
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from fastapi import FastAPI, HTTPException
from fastapi.responses import FileResponse, HTMLResponse
from pydantic import BaseModel, Field

from phaze.errors import DataError
from phaze.io.images import is_image_path
from phaze.data.sources import labels
from phaze.ui.folders import AllowedFolders

PAGE_SIZE = 48
LOG_FILE = "mask_train.log"


class MaskBody(BaseModel):
    folder: str
    name: str
    png_base64: str


class ExcludeBody(BaseModel):
    folder: str
    name: str
    excluded: bool


class RetrainBody(BaseModel):
    folder: str
    model_dir: str
    steps: int = Field(default=200, ge=1, le=100_000)


@dataclass
class MaskJobs:
    """The retrain processes this server started, by mask model folder."""

    running: dict[Path, subprocess.Popen] = field(default_factory=dict)

    def start(self, faces: Path, model_dir: Path, steps: int) -> int:
        process = self.running.get(model_dir)
        if process is not None and process.poll() is None:
            raise DataError(f"mask model '{model_dir}' is already training (pid {process.pid})")
        model_dir.mkdir(parents=True, exist_ok=True)
        command = [sys.executable, "-m", "phaze", "mask", "train", "--faces", str(faces),
                   "--model-dir", str(model_dir), "--steps", str(steps), "--apply",
                   "--no-progress"]
        with open(model_dir / LOG_FILE, "w", encoding="utf-8") as log:
            process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL)
        self.running[model_dir] = process
        return process.pid

    def status(self, model_dir: Path) -> dict[str, Any]:
        process = self.running.get(model_dir)
        log = model_dir / LOG_FILE
        tail = log.read_text(encoding="utf-8", errors="replace")[-2000:] if log.is_file() else ""
        code = None if process is None else process.poll()
        return {"running": process is not None and code is None, "exit_code": code,
                "log": tail}

    def stop_all(self) -> None:
        for process in self.running.values():
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=30)


def _face_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DataError(f"face folder '{folder}' does not exist or is not a folder")
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and not p.name.startswith(".") and is_image_path(p))


def _face_file(folder: Path, name: str) -> Path:
    """A face image of `folder` by file name (no paths: the name must be one of its faces)."""
    path = folder / name
    if Path(name).name != name or not path.is_file() or not is_image_path(path):
        raise DataError(f"face '{name}' is not an image in '{folder}'")
    return path


def _decode_mask(png_base64: str, shape: tuple[int, int], name: str) -> np.ndarray:
    try:
        data = np.frombuffer(base64.b64decode(png_base64, validate=True), np.uint8)
        mask = cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)
    except (ValueError, cv2.error):
        mask = None
    if mask is None:
        raise DataError(f"mask for '{name}' is not a base64 PNG image")
    if mask.shape != shape:
        raise DataError(f"mask for '{name}' is {mask.shape[1]}×{mask.shape[0]} px: expected "
                        f"the face's {shape[1]}×{shape[0]} px")
    return mask


def add_routes(app: FastAPI, allowed: AllowedFolders, static: Path) -> MaskJobs:
    jobs = MaskJobs()

    @app.get("/faces", response_class=HTMLResponse)
    def faces_page() -> str:
        return (static / "faces.html").read_text(encoding="utf-8")

    @app.get("/api/faces/list")
    def faces_list(folder: str, offset: int = 0, limit: int = PAGE_SIZE) -> dict[str, Any]:
        root = allowed.resolve(folder)
        files = _face_files(root)
        drawn, left_out = labels.hand_drawn(root), labels.excluded(root)
        page = files[max(offset, 0):max(offset, 0) + max(1, min(limit, 500))]
        return {"folder": str(root), "total": len(files), "offset": offset, "faces": [
            {"name": p.name, "stem": p.stem, "has_mask": labels.mask_path(root, p.stem).is_file(),
             "hand_drawn": p.stem in drawn, "excluded": p.name in left_out} for p in page]}

    @app.get("/api/faces/image")
    def face_image(folder: str, name: str) -> FileResponse:
        return FileResponse(_face_file(allowed.resolve(folder), name),
                            headers={"Cache-Control": "no-store"})

    @app.get("/api/faces/mask")
    def face_mask(folder: str, name: str) -> FileResponse:
        root = allowed.resolve(folder)
        path = labels.mask_path(root, _face_file(root, name).stem)
        if not path.is_file():
            raise HTTPException(404, f"face '{name}' has no mask yet")
        return FileResponse(path, media_type="image/png", headers={"Cache-Control": "no-store"})

    @app.post("/api/faces/mask")
    def save_mask(body: MaskBody) -> dict[str, Any]:
        root = allowed.resolve(body.folder)
        face = _face_file(root, body.name)
        image = cv2.imread(str(face), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise DataError(f"face '{body.name}' cannot be decoded")
        mask = _decode_mask(body.png_base64, image.shape[:2], body.name)
        labels.save_hand_mask(root, face.stem, mask)
        return {"saved": str(labels.mask_path(root, face.stem))}

    @app.post("/api/faces/exclude")
    def exclude(body: ExcludeBody) -> dict[str, Any]:
        root = allowed.resolve(body.folder)
        _face_file(root, body.name)
        labels.set_excluded(root, body.name, body.excluded)
        return {"excluded": sorted(labels.excluded(root))}

    @app.post("/api/faces/retrain")
    def retrain(body: RetrainBody) -> dict[str, Any]:
        root, model_dir = allowed.resolve(body.folder), allowed.resolve(body.model_dir)
        _face_files(root)
        return {"pid": jobs.start(root, model_dir, body.steps)}

    @app.get("/api/faces/retrain")
    def retrain_status(model_dir: str) -> dict[str, Any]:
        return jobs.status(allowed.resolve(model_dir))

    return jobs
