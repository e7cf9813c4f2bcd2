"""Swap faces with a trained model: arrays, tensors or a folder, one direction (spec §9.6)."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from phaze.checkpoint import load_model_dir, read_options
from phaze.errors import ConfigError, DataError
from phaze.model.phaze_a import PhazeA

logger = logging.getLogger(__name__)

# A→B shows side A's faces as B: they go through B's FC / G-Block / decoder (spec §1, §9.6).
DIRECTIONS = {"a-to-b": "b", "b-to-a": "a"}
DEVICES_DOC = "auto, cpu, cuda or cuda:<index>"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp")
MASK_FOLDER = "masks"
# Image decoding and PNG encoding release the GIL, so a few threads keep the model fed.
IO_THREADS = 4


@dataclass
class SwapResult:
    """Swapped faces (N, R, R, 3) uint8 RGB and, when the model learned one, masks (N, R, R)."""

    faces: np.ndarray
    masks: np.ndarray | None


@dataclass
class SwapReport:
    """What `swap_folder` did: faces written, files it could not read, end-to-end speed."""

    count: int
    skipped: list[Path] = field(default_factory=list)
    faces_per_sec: float = 0.0
    seconds: float = 0.0


# --- argument checks --------------------------------------------------------------------------
def target_side(direction: str) -> str:
    """The side whose pathway a swap in `direction` uses."""
    if direction not in DIRECTIONS:
        raise ConfigError(f"direction {direction!r} is invalid: expected one of: "
                          + ", ".join(DIRECTIONS))
    return DIRECTIONS[direction]


def check_batch_size(batch_size: int) -> int:
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ConfigError(f"batch size {batch_size!r} is invalid: expected an integer >= 1")
    return batch_size


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """'auto' picks CUDA when present; asking for CUDA on a machine without it is an error."""
    if isinstance(device, torch.device):
        return device
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        resolved = torch.device(device)
    except (RuntimeError, TypeError):
        raise ConfigError(f"device {device!r} is invalid: expected {DEVICES_DOC}") from None
    if resolved.type not in ("cpu", "cuda"):
        raise ConfigError(f"device {device!r} is invalid: expected {DEVICES_DOC}")
    if resolved.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {device!r} was requested but CUDA is not available here; "
                          "use --device cpu or auto")
    if resolved.type == "cuda" and (resolved.index or 0) >= torch.cuda.device_count():
        raise ConfigError(f"device {device!r} does not exist: this machine has "
                          f"{torch.cuda.device_count()} CUDA device(s)")
    return resolved


# --- arrays <-> model tensors -----------------------------------------------------------------
def _check_image(image: np.ndarray, index: int) -> None:
    if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
        raise DataError(f"image {index} has shape {tuple(image.shape)} and dtype {image.dtype}: "
                        "expected an (H, W, 3) uint8 RGB array")


def arrays_to_tensor(images: Sequence[np.ndarray] | np.ndarray, size_px: int) -> torch.Tensor:
    """(H, W, 3) uint8 RGB images of any size → (N, 3, S, S) float32 in [0, 1], INTER_AREA."""
    batch = []
    for index, image in enumerate(images):
        _check_image(image, index)
        if image.shape[:2] != (size_px, size_px):
            image = cv2.resize(image, (size_px, size_px), interpolation=cv2.INTER_AREA)
        batch.append(image)
    if not batch:
        raise DataError("no images to swap")
    stacked = torch.from_numpy(np.stack(batch))             # (N, S, S, 3) uint8
    return stacked.permute(0, 3, 1, 2).float().div_(255.0)  # (N, 3, S, S)


def tensor_to_uint8(images: torch.Tensor) -> np.ndarray:
    """(N, C, H, W) in [0, 1] → (N, H, W, C) uint8, rounded; a 1-channel mask loses its axis."""
    scaled = images.detach().float().clamp(0.0, 1.0).mul(255.0).round().to(torch.uint8)
    array = scaled.permute(0, 2, 3, 1).cpu().numpy()        # (N, H, W, C)
    return array[..., 0] if array.shape[-1] == 1 else array


# --- the swapper ------------------------------------------------------------------------------
class Swapper:
    """One direction of a PhazeA model, run batch by batch without autograd.

    Puts `model` in eval mode: Gaussian noise and dropout are training-only.
    """

    def __init__(self, model: PhazeA, direction: str = "a-to-b", batch_size: int = 16,
                 coverage: float = 100.0) -> None:
        # `coverage` < 100 crops aligned faces as training did (`read_model_framing`); callers
        # that frame faces themselves (convert) leave it at 100.
        self.coverage = coverage
        self.side = target_side(direction)
        self.direction = direction
        self.batch_size = check_batch_size(batch_size)
        self.model = model.eval()
        first = next(model.parameters())
        self.device, self.dtype = first.device, first.dtype

    @property
    def input_size(self) -> int:
        return self.model.input_size

    @property
    def output_size(self) -> int:
        return self.model.output_size

    @property
    def learns_mask(self) -> bool:
        return self.model.options.learn_mask

    def swap_tensor(self, faces: torch.Tensor) -> list[torch.Tensor]:
        """(N, 3, H, W) float [0, 1] RGB → [face (N, 3, R, R)(, mask (N, 1, R, R))].

        Inputs of another size are area-resized to the encoder size. Results are float32 on
        the input's device.
        """
        if (faces.ndim != 4 or faces.shape[0] == 0 or faces.shape[1] != 3
                or not faces.is_floating_point()):
            raise DataError(f"faces have shape {tuple(faces.shape)} and dtype {faces.dtype}: "
                            "expected (N >= 1, 3, H, W) floats in [0, 1]")
        if faces.shape[-2:] != (self.input_size, self.input_size):
            faces = F.interpolate(faces.float(), size=(self.input_size,) * 2, mode="area")
        chunks: list[list[torch.Tensor]] = []
        with torch.inference_mode():
            for batch in faces.split(self.batch_size):
                batch = batch.to(self.device, self.dtype, non_blocking=True)
                chunks.append([out.float().to(faces.device)
                               for out in self.model.side_forward(batch, self.side)])
        return [torch.cat(parts) for parts in zip(*chunks)]

    def model_inputs(self, images: Sequence[np.ndarray] | np.ndarray) -> torch.Tensor:
        """The (N, 3, S, S) tensor the model sees, cropped and resized exactly as training's
        inputs are (`phaze.data.augment.prepare_plain`): coverage crop, working size, input."""
        from phaze.data.augment import crop_coverage

        working = max(self.input_size, self.output_size)
        framed = []
        for index, image in enumerate(images):
            _check_image(image, index)
            image = crop_coverage(image, self.coverage)
            # A face already at the input size (convert aligns at it) goes in untouched.
            if image.shape[:2] not in ((working, working), (self.input_size, self.input_size)):
                image = cv2.resize(image, (working, working), interpolation=cv2.INTER_AREA)
            framed.append(image)
        return arrays_to_tensor(framed, self.input_size)

    def swap_arrays(self, images: Sequence[np.ndarray] | np.ndarray) -> SwapResult:
        """(H, W, 3) uint8 RGB images (any size) → swapped faces and masks as uint8 arrays."""
        outputs = self.swap_tensor(self.model_inputs(images))
        masks = tensor_to_uint8(outputs[1]) if len(outputs) > 1 else None
        return SwapResult(tensor_to_uint8(outputs[0]), masks)


def swap_arrays(model: PhazeA, images: Sequence[np.ndarray] | np.ndarray,
                direction: str = "a-to-b", batch_size: int = 16) -> SwapResult:
    """Convenience wrapper: `Swapper(model, direction, batch_size).swap_arrays(images)`."""
    return Swapper(model, direction, batch_size).swap_arrays(images)


# --- image files ------------------------------------------------------------------------------
def list_images(input_dir: str | Path) -> list[Path]:
    """Face images in `input_dir` (not recursive), sorted by name."""
    folder = Path(input_dir)
    if not folder.is_dir():
        raise DataError(f"input folder '{folder}' does not exist or is not a folder")
    paths = sorted(p for p in folder.iterdir()
                   if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise DataError(f"input folder '{folder}' holds no images (expected "
                        + ", ".join(IMAGE_SUFFIXES) + " files)")
    return paths


def read_rgb(path: Path) -> np.ndarray | None:
    """(H, W, 3) uint8 RGB, or None when the file cannot be decoded."""
    try:
        # imdecode of raw bytes, unlike imread, also copes with non-ASCII paths on Windows.
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
    return None if image is None else cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


def write_png(path: Path, image: np.ndarray) -> None:
    """Write an (H, W, 3) RGB or (H, W) grey uint8 image as PNG."""
    pixels = cv2.cvtColor(image, cv2.COLOR_RGB2BGR) if image.ndim == 3 else image
    ok, encoded = cv2.imencode(".png", pixels)
    if not ok:
        raise DataError(f"could not encode '{path}' as PNG")
    try:
        encoded.tofile(path)
    except OSError as error:
        raise DataError(f"could not write '{path}': {error}") from None


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
    from phaze.model_framing import read_model_framing

    coverage = read_model_framing(model_dir).coverage * 100.0
    swapper = Swapper(model, direction, batch_size, coverage)
    return swap_paths(swapper, paths, output_dir, progress)


def _batches(paths: list[Path], size: int) -> Iterator[list[Path]]:
    for start in range(0, len(paths), size):
        yield paths[start:start + size]


def swap_paths(swapper: Swapper, paths: list[Path], output_dir: Path,
               progress: bool = True) -> SwapReport:
    """Read, swap and write `paths` batch by batch; unreadable files are skipped, then named."""
    mask_dir = output_dir / MASK_FOLDER
    output_dir.mkdir(parents=True, exist_ok=True)
    if swapper.learns_mask:
        mask_dir.mkdir(exist_ok=True)
    report = SwapReport(count=0)
    start = time.perf_counter()
    with ThreadPoolExecutor(IO_THREADS) as pool, \
            tqdm(total=len(paths), unit="face", desc="swap", disable=not progress) as bar:
        for batch in _batches(paths, swapper.batch_size):
            images = list(pool.map(read_rgb, batch))
            readable = [(p, im) for p, im in zip(batch, images) if im is not None]
            report.skipped += [p for p, im in zip(batch, images) if im is None]
            if readable:
                result = swapper.swap_arrays([im for _, im in readable])
                jobs = [(output_dir / f"{p.stem}.png", face)
                        for (p, _), face in zip(readable, result.faces)]
                if result.masks is not None:
                    jobs += [(mask_dir / f"{p.stem}.png", mask)
                             for (p, _), mask in zip(readable, result.masks)]
                list(pool.map(lambda job: write_png(*job), jobs))
                report.count += len(readable)
            bar.update(len(batch))
    report.seconds = time.perf_counter() - start
    _finish(report, len(paths))
    return report


def _finish(report: SwapReport, total: int) -> None:
    if report.skipped:
        logger.warning("skipped %d unreadable file(s): %s", len(report.skipped),
                       ", ".join(str(p) for p in report.skipped))
    if report.count == 0:
        raise DataError(f"none of the {total} image files could be read")
    report.faces_per_sec = report.count / max(report.seconds, 1e-9)
    logger.debug("swapped %d faces in %.1f s (%.1f faces/sec)", report.count, report.seconds,
                report.faces_per_sec)
