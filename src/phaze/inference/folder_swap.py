"""Swap a folder of aligned faces with a trained model, one direction.

The model side of this lives in `phaze.inference` (the Swapper); this module only reads the
folder, batches it through a Swapper and writes the results.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from phaze.storage.checkpoint import load_model_dir, read_options
from phaze.errors import DataError
from phaze.faces.framing import Framing
from phaze.inference.swapper import SwapResult, Swapper, check_batch_size, swap_arrays
from phaze.io.devices import DEVICES_DOC, resolve_device
from phaze.io.images import IMAGE_SUFFIXES, is_image_path, write_image
from phaze.sides import DIRECTIONS, target_side

# Public names that callers imported from here before the split.
__all__ = ["DEVICES_DOC", "DIRECTIONS", "SwapReport", "SwapResult", "Swapper", "list_images",
           "swap_arrays", "swap_folder", "swap_paths"]

logger = logging.getLogger(__name__)

MASK_FOLDER = "masks"
# Image decoding and PNG encoding release the GIL, so a few threads keep the model fed.
IO_THREADS = 4


@dataclass
class SwapReport:
    """What `swap_folder` did: faces written, files it could not read, end-to-end speed."""

    count: int
    skipped: list[Path] = field(default_factory=list)
    faces_per_sec: float = 0.0
    seconds: float = 0.0



def list_images(input_dir: str | Path) -> list[Path]:
    """Face images in `input_dir` (not recursive), sorted by name."""
    folder = Path(input_dir)
    if not folder.is_dir():
        raise DataError(f"input folder '{folder}' does not exist or is not a folder")
    paths = sorted(p for p in folder.iterdir() if p.is_file() and is_image_path(p))
    if not paths:
        raise DataError(f"input folder '{folder}' holds no images (expected "
                        + ", ".join(IMAGE_SUFFIXES) + " files)")
    return paths


def _check_output(paths: list[Path], input_dir: Path, output_dir: Path) -> None:
    if output_dir.resolve() == input_dir.resolve():
        raise DataError(f"output folder '{output_dir}' is the input folder: choose another one "
                        "so the source faces are not overwritten")
    by_stem: dict[str, Path] = {}
    for path in paths:
        if path.stem in by_stem:
            raise DataError(f"'{by_stem[path.stem].name}' and '{path.name}' would both be "
                            f"written as '{path.stem}.png'; rename one of them")
        by_stem[path.stem] = path


# --- a folder ---------------------------------------------------------------------------------
def swap_folder(model_dir: str | Path, input_dir: str | Path, output_dir: str | Path,
                direction: str = "a-to-b", batch_size: int = 16,
                device: str | torch.device = "auto", progress: bool = True) -> SwapReport:
    """Swap every image in `input_dir` and write `<stem>.png` (and `masks/<stem>.png`)."""
    target_side(direction)
    check_batch_size(batch_size)
    read_options(model_dir)  # refuse a non-model folder before touching any image
    input_dir, output_dir = Path(input_dir), Path(output_dir)
    paths = list_images(input_dir)
    _check_output(paths, input_dir, output_dir)
    model, _ = load_model_dir(model_dir, resolve_device(device))
    from phaze.storage.framing_file import read_model_framing

    # Faces are framed as in training (phaze.data.sources.framing) before the swapper sees them.
    swapper = Swapper(model, direction, batch_size)
    return swap_paths(swapper, paths, output_dir, progress, read_model_framing(model_dir))


def _batches(paths: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(paths), size):
        yield paths[start:start + size]


def swap_paths(swapper: Swapper, paths: list[Path], output_dir: Path,
               progress: bool = True, framing: Framing | None = None) -> SwapReport:
    """Read, swap and write `paths` batch by batch; unreadable files are skipped, then named."""
    mask_dir = output_dir / MASK_FOLDER
    output_dir.mkdir(parents=True, exist_ok=True)
    if swapper.learns_mask:
        mask_dir.mkdir(exist_ok=True)
    report = SwapReport(count=0)
    working = max(swapper.input_size, swapper.output_size)
    start = time.perf_counter()
    with ThreadPoolExecutor(IO_THREADS) as pool, \
            tqdm(total=len(paths), unit="face", desc="swap", disable=not progress) as bar:
        for batch in _batches(paths, swapper.batch_size):
            images = list(pool.map(lambda path: framed_image(path, framing, working), batch))
            readable = [(p, im) for p, im in zip(batch, images) if im is not None]
            report.skipped += [p for p, im in zip(batch, images) if im is None]
            if readable:
                result = swapper.swap_arrays([im for _, im in readable])
                jobs = [(output_dir / f"{p.stem}.png", face)
                        for (p, _), face in zip(readable, result.faces)]
                if result.masks is not None:
                    jobs += [(mask_dir / f"{p.stem}.png", mask)
                             for (p, _), mask in zip(readable, result.masks)]
                list(pool.map(lambda job: write_image(*job), jobs))
                report.count += len(readable)
            bar.update(len(batch))
    report.seconds = time.perf_counter() - start
    _finish(report, len(paths))
    return report


def framed_image(path: Path, framing: Framing | None, size_px: int) -> np.ndarray | None:
    """The face at `path` framed as the model was trained (a faceswap PNG is sub-cropped at the
    model's centering), at `size_px`; None when it cannot be decoded."""
    from phaze.data.sources.framing import frame_record
    from phaze.data.sources.scan import read_record

    framed = frame_record(read_record(path), framing or Framing(), size_px)
    return None if framed is None else framed.image


def _finish(report: SwapReport, total: int) -> None:
    if report.skipped:
        logger.warning("skipped %d unreadable file(s): %s", len(report.skipped),
                       ", ".join(str(p) for p in report.skipped))
    if report.count == 0:
        raise DataError(f"none of the {total} image files could be read")
    report.faces_per_sec = report.count / max(report.seconds, 1e-9)
    logger.debug("swapped %d faces in %.1f s (%.1f faces/sec)", report.count, report.seconds,
                report.faces_per_sec)
