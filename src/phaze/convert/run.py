"""`convert(...)`: a model folder + frames + alignments → swapped frames or video on disk."""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from phaze.convert.alignments import load_alignments
from phaze.convert.frames import open_frames
from phaze.convert.framing import check_input_size
from phaze.storage.framing_file import read_model_framing
from phaze.convert.geometry import FaceGeometry, default_geometry
from phaze.convert.pipeline import (ConvertOptions, ConvertReport, FaceConverter, check_matching,
                                    run_convert)
from phaze.convert.steady import SteadyLandmarks
from phaze.convert.writers import VIDEO_SUFFIXES, create_writer, write_preview
from phaze.errors import DataError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConvertJob:
    model_dir: Path
    input: Path
    alignments: Path
    output: Path
    writer: str = "auto"        # auto: follows the output path (video file or a folder)
    direction: str = "a-to-b"
    device: str = "auto"
    fps: float | None = None    # only for a folder written as a video
    mask_model: Path | None = None  # a `phaze mask train` folder, for mask type occlusion


def _writer_name(job: ConvertJob) -> str:
    """The output path decides what is written (a video file name, else a folder of PNG
    frames), whatever the input is; --writer only overrides it."""
    if job.writer != "auto":
        return job.writer
    return "video" if Path(job.output).suffix.lower() in VIDEO_SUFFIXES else "png"


def build_converter(job: ConvertJob, options: ConvertOptions,
                    geometry: FaceGeometry | None = None) -> FaceConverter:
    from phaze.storage.checkpoint import load_model_dir
    from phaze.inference import Swapper
    from phaze.io.devices import resolve_device
    from phaze.sides import target_side

    target_side(job.direction)
    framing = read_model_framing(job.model_dir)
    model, _ = load_model_dir(job.model_dir, resolve_device(job.device))
    swapper = Swapper(model, job.direction, options.batch_size)
    check_input_size(swapper.input_size, str(job.model_dir))
    occlusion = None
    if options.mask_type == "occlusion" and job.mask_model is not None:
        from phaze.masks.predict import MaskPredictor

        occlusion = MaskPredictor.load(job.mask_model, resolve_device(job.device))
    return FaceConverter(swapper.swap_tensor, swapper.input_size, swapper.output_size, framing,
                         geometry or default_geometry(), options, swapper.learns_mask,
                         occlusion)


def convert(job: ConvertJob, options: ConvertOptions = ConvertOptions(),
            geometry: FaceGeometry | None = None, converter: FaceConverter | None = None,
            on_frame: Callable[[], None] | None = None,
            on_start: Callable[[int], None] | None = None) -> ConvertReport:
    """Convert every frame of `job.input`; the output is complete or absent."""
    alignments = load_alignments(job.alignments)
    source = open_frames(job.input, alignments.frame_count)
    check_matching(source.names, alignments, job.input,
                   source.container_frames if source.is_video else None)
    check_output_is_not_an_input(job, source.names if not source.is_video else [])
    converter = converter or build_converter(job, options, geometry)
    name = _writer_name(job)
    fps = source.fps or alignments.fps or job.fps
    writer = create_writer(name, job.output, fps=fps,
                           audio_source=job.input if source.is_video else None)
    steady = _steady(options, fps)
    if on_start:
        on_start(len(source))
    return run_convert(source, alignments, converter, writer, on_frame, steady)


def _steady(options: ConvertOptions, fps: float | None) -> SteadyLandmarks | None:
    """Track smoothing needs the frames' timing; a folder of frames without a known rate is
    taken as unrelated photos and left unsmoothed."""
    if options.smoothing == "none":
        return None
    if not fps:
        logger.info("no frame rate known for the input: faces are not smoothed over time "
                    "(give --fps for a folder of video frames)")
        return None
    return SteadyLandmarks(float(fps), options.smoothing_config)


def check_output_is_not_an_input(job: ConvertJob, frame_names: list[str]) -> None:
    """DataError when writing `job.output` would overwrite the input, one of its frames, or
    the alignments file (a preview path is a single file, so it could name any of them)."""
    output = Path(job.output).resolve()
    inputs = {Path(job.input).resolve(): "the input", Path(job.alignments).resolve():
              "the alignments file"}
    folder = Path(job.input).resolve()
    inputs.update({folder / name: "an input frame" for name in frame_names})
    if output in inputs:
        raise DataError(f"output '{job.output}' is {inputs[output]}: writing it would overwrite "
                        "the source; choose another path")


def preview(job: ConvertJob, frame_name: str, options: ConvertOptions = ConvertOptions(),
            geometry: FaceGeometry | None = None,
            converter: FaceConverter | None = None) -> np.ndarray:
    """One frame converted, shown beside the original: (H, 2W, 3) uint8, written to output."""
    from phaze.convert.pipeline import _Pending

    alignments = load_alignments(job.alignments)
    source = open_frames(job.input, alignments.frame_count)
    check_output_is_not_an_input(job, source.names if not source.is_video else [])
    if frame_name not in source.names:
        raise DataError(f"frame {frame_name!r} is not in '{job.input}' (first frames: "
                        + ", ".join(source.names[:3]) + ")")
    converter = converter or build_converter(job, options, geometry)
    for name, frame in source:
        if name == frame_name:
            original = frame.copy()
            converter.convert_batch([_Pending(name, frame, alignments.for_frame(name))])
            side_by_side = np.concatenate([original, frame], axis=1)
            write_preview(Path(job.output), side_by_side)
            return side_by_side
    raise DataError(f"frame {frame_name!r} could not be read from '{job.input}'")
