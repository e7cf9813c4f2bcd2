"""The convert pipeline: frames + alignments + model → frames with the faces swapped.

Streams frame by frame (at most `batch_size` faces' frames are held), batching faces through
the model. Per face: crop with the model's framing → predict → mask → colour → sharpen →
inverse warp and composite. Frames without faces are written unchanged.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol
from pathlib import Path

import numpy as np
import torch

from phaze.convert.alignments import Alignments
from phaze.convert import DEFAULT_COLOUR, MASK_SOURCES, OCCLUSION_COMBINE
from phaze.convert.colour import get_colour_method
from phaze.convert.mask import MaskOptions, keep_visible, process_mask
from phaze.convert.sharpen import sharpen
from phaze.convert.steady import SteadyLandmarks, check_smoothing
from phaze.convert.writers import FrameWriter
from phaze.errors import ConfigError, DataError
from phaze.faces.aligned import FaceGeometry
from phaze.faces.crop import CONVERT, crop, paste, scale_matrix
from phaze.faces.framing import Framing
from phaze.faces.smoothing.one_euro import OneEuroConfig
from phaze.model.side_output import SideOutput

logger = logging.getLogger(__name__)

# (N, 3, S, S) float [0, 1] → faces (N, 3, R, R) and masks (N, 1, R, R) or None, as
# Swapper.swap_tensor
Predict = Callable[[torch.Tensor], SideOutput]
# Mask type occlusion: the mask segmenter's prediction (phaze.masks), alone or combined with the
# model's mask (learned if it has one, else extended) by intersection or union.


class OcclusionMasks(Protocol):
    def frame_masks(self, frame: np.ndarray, jobs: list[tuple[np.ndarray, np.ndarray]],
                    geometry: FaceGeometry, size_px: int) -> list[np.ndarray]:
        """(landmarks, frame → crop matrix) per face → (S, S) float masks in the crops."""


@dataclass(frozen=True)
class ConvertOptions:
    mask_type: str = "auto"    # auto: the model's learned mask if it has one, else extended
    mask: MaskOptions = field(default_factory=MaskOptions)
    colour: str = DEFAULT_COLOUR
    sharpen: str = "none"
    sharpen_amount: float = 1.0
    batch_size: int = 8
    smoothing: str = "one-euro"   # landmarks smoothed along each face track; none: as found
    smoothing_config: OneEuroConfig = field(default_factory=OneEuroConfig)
    occlusion_combine: str = "none"

    def __post_init__(self) -> None:
        check_smoothing(self.smoothing)
        OCCLUSION_COMBINE.check(self.occlusion_combine)
        MASK_SOURCES.check(self.mask_type)
        get_colour_method(self.colour)
        sharpen(np.zeros((1, 1, 3), np.float32), self.sharpen, 0.0)
        if self.batch_size < 1:
            raise ConfigError(f"batch size {self.batch_size} is invalid: expected >= 1")


@dataclass
class ConvertReport:
    frames: int = 0
    faces: int = 0
    frames_without_faces: int = 0
    seconds: float = 0.0

    @property
    def frames_per_sec(self) -> float:
        return self.frames / max(self.seconds, 1e-9)


@dataclass
class _Pending:
    name: str
    frame: np.ndarray
    landmarks: list[np.ndarray]


class FaceConverter:
    """Swaps the faces of frames in place, given the model, its framing and the geometry."""

    def __init__(self, predict: Predict, input_px: int, output_px: int, framing: Framing,
                 geometry: FaceGeometry, options: ConvertOptions, learns_mask: bool,
                 occlusion: OcclusionMasks | None = None) -> None:
        if options.mask_type == "occlusion" and occlusion is None:
            raise ConfigError("mask type 'occlusion' needs a mask model (--mask-model, trained "
                              "with `phaze mask train`)")
        self.occlusion, self.learns_mask = occlusion, learns_mask
        if options.mask_type == "learned" and not learns_mask:
            raise ConfigError("mask type 'learned' needs a model trained with a learned mask; "
                              "this one has none (use extended or components)")
        self.predict, self.input_px, self.output_px = predict, input_px, output_px
        self.framing, self.geometry, self.options = framing, geometry, options
        self.colour = get_colour_method(options.colour)
        self.mask_type = options.mask_type
        if self.mask_type == "auto":
            self.mask_type = "learned" if learns_mask else "extended"

    def convert_batch(self, pending: list[_Pending]) -> None:
        """Swap every face of `pending`, at most `batch_size` faces at a time: a frame with
        100 000 faces in its alignments must not become one 100 000-face batch."""
        jobs = [(item, index, landmarks) for item in pending
                for index, landmarks in enumerate(item.landmarks)]
        step = self.options.batch_size
        for start in range(0, len(jobs), step):
            self._convert_jobs(jobs[start:start + step])

    def _crop_matrix(self, item: _Pending, index: int, landmarks: np.ndarray) -> np.ndarray:
        try:
            return self.geometry.crop_matrix(landmarks, self.input_px, self.framing)
        except DataError as error:
            raise DataError(f"frame '{item.name}' face {index}: {error}") from None

    def _convert_jobs(self, jobs: list[tuple[_Pending, int, np.ndarray]]) -> None:
        matrices = [self._crop_matrix(*job) for job in jobs]
        jobs = [(item, landmarks) for item, _, landmarks in jobs]
        crops = np.stack([crop(item.frame, m, self.input_px, CONVERT)
                          for (item, _), m in zip(jobs, matrices)])
        batch = torch.from_numpy(crops).permute(0, 3, 1, 2).float().div_(255.0)  # (N, 3, S, S)
        outputs = self.predict(batch)
        faces = outputs.face.permute(0, 2, 3, 1).clamp(0, 1).cpu().numpy()     # (N, R, R, 3)
        learned = None if outputs.mask is None else outputs.mask[:, 0].clamp(0, 1).cpu().numpy()
        out_matrices = [scale_matrix(m, self.input_px, self.output_px) for m in matrices]
        occluded = self._occlusion_masks(jobs, out_matrices)
        for index, ((item, landmarks), out_matrix) in enumerate(zip(jobs, out_matrices)):
            if self.mask_type == "learned" and learned is not None:
                raw_mask = learned[index]
            elif self.mask_type == "occlusion":
                raw_mask = self._combine(occluded[index], landmarks, out_matrix,
                                         None if learned is None else learned[index])
            else:
                raw_mask = self.geometry.landmark_mask(landmarks, out_matrix, self.output_px,
                                                       self.mask_type)
            mask = process_mask(raw_mask, self.options.mask)
            if self.mask_type == "occlusion" and self.options.occlusion_combine != "union":
                # After the blur: an occluder stays untouched, its soft edge on the face side.
                mask = keep_visible(mask, occluded[index])
            original = crop(item.frame, out_matrix, self.output_px, CONVERT)
            original = original.astype(np.float32) / 255.0
            face = self.colour(faces[index].astype(np.float32), original, mask)
            face = sharpen(face, self.options.sharpen, self.options.sharpen_amount)
            paste(item.frame, face, mask, out_matrix, CONVERT)

    def _occlusion_masks(self, jobs: list[tuple[_Pending, np.ndarray]],
                         out_matrices: list[np.ndarray]) -> list[np.ndarray]:
        """The segmenter's mask of every face in its output crop, one call per frame."""
        if self.mask_type != "occlusion" or self.occlusion is None:
            return []
        masks: list[np.ndarray] = []
        for item in dict.fromkeys(id(item) for item, _ in jobs):
            faces = [(lm, m) for (it, lm), m in zip(jobs, out_matrices) if id(it) == item]
            frame = next(it.frame for it, _ in jobs if id(it) == item)
            masks += self.occlusion.frame_masks(frame, faces, self.geometry, self.output_px)
        return masks

    def _combine(self, occluded: np.ndarray, landmarks: np.ndarray, out_matrix: np.ndarray,
                 learned: np.ndarray | None) -> np.ndarray:
        how = self.options.occlusion_combine
        if how == "none":
            return occluded
        other = learned if learned is not None else self.geometry.landmark_mask(
            landmarks, out_matrix, self.output_px, "extended")
        return np.minimum(occluded, other) if how == "intersect" else np.maximum(occluded, other)


def check_matching(names: list[str], alignments: Alignments, source_path: Path,
                   video_frames: int | None) -> None:
    """Refuse alignments that were made from other frames than the input's."""
    if video_frames and alignments.frame_count is not None \
            and alignments.frame_count != video_frames:
        raise DataError(f"alignments '{alignments.path}' describe {alignments.frame_count} "
                        f"frames but video '{source_path}' has {video_frames}")
    unknown = sorted(set(alignments.faces) - set(names))
    if unknown:
        raise DataError(f"alignments '{alignments.path}' name {len(unknown)} frame(s) not in "
                        f"'{source_path}', e.g. '{unknown[0]}': they were made from other frames")
    if not any(alignments.faces.get(name) for name in names):
        logger.warning("alignments '%s' hold no faces for the frames of '%s'",
                       alignments.path, source_path)


def run_convert(frames: Iterable[tuple[str, np.ndarray]], alignments: Alignments,
                converter: FaceConverter, writer: FrameWriter,
                on_frame: Callable[[], None] | None = None,
                steady: SteadyLandmarks | None = None) -> ConvertReport:
    """Convert and write every frame in order; the writer is closed, or aborted on failure.

    With `steady`, each frame's landmarks are smoothed along their face tracks first."""
    report = ConvertReport()
    start = time.perf_counter()
    pending: list[_Pending] = []
    queued_faces = 0

    def flush() -> None:
        nonlocal queued_faces
        converter.convert_batch(pending)
        for item in pending:
            writer.write(item.name, item.frame)
            if on_frame:
                on_frame()
        pending.clear()
        queued_faces = 0

    try:
        for name, frame in frames:
            landmarks = alignments.for_frame(name)
            if steady is not None:
                landmarks = steady(report.frames, landmarks)
            report.frames += 1
            report.faces += len(landmarks)
            report.frames_without_faces += not landmarks
            pending.append(_Pending(name, frame, landmarks))
            queued_faces += len(landmarks)
            if queued_faces >= converter.options.batch_size or len(pending) >= 4 * \
                    converter.options.batch_size:
                flush()
        flush()
        writer.close()   # inside: a close that fails (full disk) must leave nothing behind
    except BaseException:
        writer.abort()
        raise
    report.seconds = time.perf_counter() - start
    return report
