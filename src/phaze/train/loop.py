"""The training loop and its Python API: two face folders in, a trained model folder out.

`train(...)` is what notebooks and the CLI call. `Trainer` is the same in two steps (set up,
then `run()`), for callers that want to look at the model or optimiser before training.
"""
from __future__ import annotations

import dataclasses
import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Sequence

import torch
from tqdm.contrib.logging import logging_redirect_tqdm

from phaze.config.options import PhazeAOptions
from phaze.data.faceset import FaceSet, load_faceset
from phaze.data.batch import PairBatch, SideBatch
from phaze.data.loader import StreamPosition, Weighting, make_training_batches, preview_batch
from phaze.data.sources import SourceScan
from phaze.errors import DataError
from phaze.faces.framing import Framing
from phaze.storage.checkpoint import TrainingState, snapshot
from phaze.storage.folder import ModelFolder
from phaze.storage.framing_file import check_training_framing
from phaze.io.devices import resolve_device
from phaze.model.design import plan_design
from phaze.model.freeze import set_frozen_norms_eval
from phaze.train.components import (restore_training_state, save_training_state,
                                    training_components)
from phaze.train.config import TrainerConfig, resolve_trainer_config
from phaze.train.distributed import Replicas, World
from phaze.train.run_log import Progress, ProgressBar, TensorBoardLog
from phaze.train.losses import FaceLoss
from phaze.train.optim.clipping import GradientClipper
from phaze.train.optim.factory import build_optimizer, moments_label
from phaze.train.optim.warmup import warmup_scheduler
from phaze.train.precision import resolve_precision
from phaze.train.preview import render_preview, write_preview
from phaze.train.preview_score import PreviewScorer, score_scalars
from phaze.train.session import open_session, resolve_run_options, saved_options
from phaze.train.in_backward import in_backward_blocker
from phaze.train.speed import resolve_model_speed
from phaze.sides import SIDES
from phaze.train.step import StepParts, TrainStep
from phaze.train.stop import stop_requests
from phaze.train.threads import default_threads, torch_threads
from phaze.train.transfer import TransferReport

__all__ = ["Progress", "TrainResult", "Trainer", "TrainerConfig", "train"]

logger = logging.getLogger(__name__)

ProgressCallback = Callable[[Progress], "bool | None"]


@dataclass
class TrainResult:
    model_dir: Path
    iteration: int                 # the model's iteration count now
    steps: int                     # optimiser steps taken in this run
    stopped: str                   # "completed", "interrupted", "non_finite" or "callback"
    history: list[Progress] = field(default_factory=list)   # every report of this run
    checkpoint: Path | None = None
    preview: Path | None = None
    elapsed_s: float = 0.0
    transfer: TransferReport | None = None


def train(faces_a: str | Path | SourceScan, faces_b: str | Path | SourceScan,
          model_dir: str | Path, options: PhazeAOptions | None = None,
          trainer: TrainerConfig | None = None, load_weights: str | Path | None = None,
          load_layers: Sequence[str] | None = None, freeze_layers: Sequence[str] | bool = (),
          on_progress: ProgressCallback | None = None,
          framing: Framing | None = None) -> TrainResult:
    """Train (or resume) the model in `model_dir` on two face sources.

    faces_a, faces_b: face folders (faceswap/Phaze PNGs, DFL JPGs, plain crops, mixed) or faces
        in memory (`phaze.data.sources.synthetic_source`).

    options: the network for a new model (None: Phaze-A defaults). For an existing model the
        saved options are used; these may only change its updatable options.
    trainer: how to train (None: the settings saved with the model when resuming, else
        TrainerConfig() defaults; the same rule as `phaze train`).
    load_weights, load_layers: copy these sub-models from another model folder (new models
        only; `load_layers=None` uses the options' `load_layers`).
    freeze_layers: sub-model names to freeze, True for the options' `freeze_layers`; empty
        trains everything.
    on_progress: called at every log interval; returning False stops training (and saves).
    framing: centering, coverage and vertical offset of a new model (None: the defaults); saved
        with the model, and a resume that asks for another one is refused.
    """
    return Trainer(faces_a, faces_b, model_dir, options, trainer, load_weights, load_layers,
                   freeze_layers, framing).run(on_progress)


class Trainer:
    """Everything a run needs, set up; `run()` trains."""

    def __init__(self, faces_a: str | Path | SourceScan, faces_b: str | Path | SourceScan,
                 model_dir: str | Path, options: PhazeAOptions | None = None,
                 trainer: TrainerConfig | None = None,
                 load_weights: str | Path | None = None,
                 load_layers: Sequence[str] | None = None,
                 freeze_layers: Sequence[str] | bool = (),
                 framing: Framing | None = None) -> None:
        self.model_dir = Path(model_dir)
        self.folder = ModelFolder(self.model_dir)
        resuming = self.folder.has_checkpoint()
        self.framing = check_training_framing(self.model_dir, framing, resuming)
        # None: resume with the saved settings, exactly as the CLI does.
        self.config = resolve_trainer_config(self.model_dir, trainer)
        self.world = World.from_environment()   # torchrun's processes, or just this one
        self.world.check_batch_size(self.config.batch_size)
        self.device = self.world.device(resolve_device(self.config.device,
                                                       "trainer option 'device'"))
        self.precision = resolve_precision(self.config.mixed_precision, self.device)
        saved = saved_options(self.model_dir)
        options = resolve_run_options(self.model_dir, options, load_layers, freeze_layers,
                                      saved)
        # Data is checked before anything is written, so a typo leaves no half-made model.
        design = plan_design(options)
        self.speed = resolve_model_speed(self.config.speed, self.device, self.precision.dtype,
                                         in_backward_blocker(self.config.optimizer,
                                                             self.precision.needs_scaler,
                                                             self.world.world_size),
                                         options, self.config.batch_size)
        self.facesets = self._load_facesets(faces_a, faces_b, design.input_size,
                                            options.output_size, options.learn_mask)
        torch.manual_seed(self.config.seed)
        self.replicas = Replicas(self.world, self.device, self.config.parallel)
        # Only rank 0 writes; the others build the same model (DDP then copies rank 0's).
        self.session = open_session(self.model_dir, options, self.device, load_weights,
                                    freeze=bool(freeze_layers), write=self.world.is_main,
                                    saved=saved, framing=self.framing, design=design)
        self.model = self.session.model
        if self.replicas.sharded:
            self.replicas.shard(self.model)   # before the optimiser is built on its shards
        self.parts = self._step_parts()
        self.state = TrainingState(trainer=self.config.to_dict())
        # Everything a save holds, by name; a resume restores them all.
        self.components = training_components(
            self.model, self.parts, self.state,
            self.replicas.optimizer_loader(self.model, self.parts.optimizer))
        self._restore()
        self.step = TrainStep(self.model, self.parts, self.replicas)
        # With sharded weights every process takes part in a preview's forward.
        self.samples = (self._preview_samples()
                        if self.world.is_main or self.replicas.sharded else {})

    # --- setup ------------------------------------------------------------------------------
    def _load_facesets(self, faces_a: str | Path | SourceScan, faces_b: str | Path | SourceScan,
                       input_size: int, output_size: int,
                       learn_mask: bool) -> dict[str, FaceSet]:
        size_px = max(input_size, output_size)  # augmentation works at the larger size
        self._apply_mask_model(faces_a, faces_b)
        facesets = {side: load_faceset(source, side, self.config.batch_size, size_px,
                                       self.framing, self.config.masks.mask_type)
                    for side, source in zip(SIDES, (faces_a, faces_b))}
        with_masks = [side.upper() for side, faces in facesets.items() if faces.has_masks]
        if learn_mask and not with_masks:
            raise DataError(
                f"option 'learn_mask' is on but no face has a mask of type "
                f"'{self.config.masks.mask_type}': use faces with landmarks (extended or "
                "components masks), put a mask image with the same name as each face in "
                "<faces>/masks/, or build the model with learn_mask=false")
        if learn_mask and len(with_masks) == 1:
            logger.warning("learn_mask: only side %s has masks; the other side's mask output is "
                        "not trained", with_masks[0])
        return facesets

    def _apply_mask_model(self, *sources: str | Path | SourceScan) -> None:
        """mask_type occlusion with a mask model: predict masks/ for the face folders first.

        Every process does it (writes are atomic and identical), so no rank reads a folder
        another is still filling."""
        masks = self.config.masks
        if masks.mask_type != "occlusion" or not masks.mask_model:
            return
        from phaze.masks.predict import apply_to_folder

        for source in sources:
            if not isinstance(source, SourceScan):
                report = apply_to_folder(masks.mask_model, source)
                logger.info("occlusion masks for %s: %d predicted, %d hand-drawn kept", source,
                         report.written, report.kept_hand_drawn)

    def _step_parts(self) -> StepParts:
        config = self.config
        # The model decides whether there is a mask output to train.
        losses = dataclasses.replace(config.losses, learn_mask=self.session.options.learn_mask)
        speed = self.speed
        optimizer_config = config.optimizer
        if self.replicas.sharded:
            # DTensor shards: no channels-last reformatting, compiling or fused Adam kernels.
            speed = dataclasses.replace(speed, channels_last=False, compile=False)
            optimizer_config = dataclasses.replace(optimizer_config, fused=False)
        optimizer = build_optimizer(self.model, optimizer_config)
        return StepParts(
            loss=FaceLoss(losses), optimizer=optimizer,
            scheduler=warmup_scheduler(optimizer, config.optimizer.warmup_steps),
            clipper=GradientClipper(config.optimizer), scaler=self.precision.grad_scaler(),
            precision=self.precision, check_finite=config.nan_protection.enabled,
            speed=speed)

    def _restore(self) -> None:
        if self.session.checkpoint is not None:
            restore_training_state(self.session.checkpoint, self.components)
            self.state.trainer = self.config.to_dict()   # this run's settings are saved next

    def _preview_samples(self) -> dict[str, SideBatch]:
        # One count for both sides: the preview grid's rows must be equally wide.
        count = min(self.config.preview_faces, *(len(faces) for faces in self.facesets.values()))
        return {side: preview_batch(faces, count, self.model.input_size,
                                    self.model.output_size, self.weighting).to(self.device)
                for side, faces in self.facesets.items()}

    @property
    def weighting(self) -> Weighting:
        return Weighting(self.config.masks, self.config.losses.penalized_mask_loss)

    @property
    def iteration(self) -> int:
        return self.state.iteration

    # --- running ----------------------------------------------------------------------------
    def run(self, on_progress: ProgressCallback | None = None) -> TrainResult:
        """Train until the configured iterations, Ctrl-C, too many NaNs or `on_progress`."""
        run = _RunState(self, on_progress)
        started = time.perf_counter()
        try:
            with logging_redirect_tqdm(), torch_threads(self._threads()), \
                    stop_requests() as signals:
                run.signals = signals
                try:
                    run.stopped = run.loop()
                except KeyboardInterrupt:
                    run.stopped = "interrupted"
                    logger.info("interrupted at iteration %d: saving", self.iteration)
                finally:
                    run.close_batches()
                    run.bar.close()
                run.finish()
        finally:
            self.step.close()        # a run is one call: the process group ends with it
            self.replicas.close()
        return TrainResult(self.model_dir, self.iteration, run.steps, run.stopped, run.history,
                           run.checkpoint, run.preview, time.perf_counter() - started,
                           self.session.transfer)


    def _threads(self) -> int | None:
        """The configured count; unset on a CPU: the cores not busy with other work, shared
        by the training processes of this machine."""
        if self.config.threads is None and self.device.type == "cpu":
            return max(1, default_threads() // self.world.local_world_size)
        return self.config.threads


class _RunState:
    """One call of `Trainer.run`: counters, timers and the feedback channels."""

    def __init__(self, trainer: Trainer, on_progress: ProgressCallback | None) -> None:
        self.t = trainer
        self.config = trainer.config
        self.on_progress = on_progress
        self.start_iteration = trainer.iteration
        self.steps = 0
        self.skipped = 0
        self.consecutive_skips = 0
        self.stopped = "completed"
        self.history: list[Progress] = []
        self.checkpoint: Path | None = None
        self.preview: Path | None = None
        self.saved_at = self.previewed_at = trainer.iteration
        self.reported_since_save: list[Progress] = []
        self.main = trainer.world.is_main   # the one process that writes and shows progress
        self.bar = ProgressBar(trainer.iteration, self.config.iterations, enabled=self.main)
        self.tensorboard = (TensorBoardLog(trainer.folder.logs, trainer.iteration)
                            if self.config.tensorboard and self.main else None)
        # The score runs the model on rank 0 alone, which sharded weights cannot do.
        self.scorer = (PreviewScorer() if self.tensorboard and self.config.tensorboard_score
                       and not trainer.replicas.sharded else None)
        self.signals = None   # set by Trainer.run: Ctrl-C / SIGTERM seen by this process
        self.batches = self._batches()
        self._timer_start, self._timed_steps = time.perf_counter(), 0

    def _batches(self) -> Iterator[PairBatch]:
        t = self.t
        # A resumed run continues the same stream at batch `iteration` (batch k = iteration k).
        return make_training_batches(t.facesets["a"], t.facesets["b"], t.model.input_size,
                                     t.model.output_size, self.config.batch_size,
                                     self.config.augment, self.config.workers,
                                     seed=self.config.seed,
                                     position=StreamPosition(t.iteration, t.world.rank,
                                                             t.world.world_size),
                                     weighting=t.weighting)

    def close_batches(self) -> None:
        self.batches = None  # drops the DataLoader iterator, which stops its workers

    # --- the loop ---------------------------------------------------------------------------
    def loop(self) -> str:
        t, limit = self.t, self.config.iterations
        t.model.train()
        set_frozen_norms_eval(t.model)
        processes = f" over {t.world.world_size} processes" if t.world.distributed else ""
        switches = ", ".join(filter(None, [t.parts.speed.label, moments_label(t.parts.optimizer)]))
        logger.info("training on %s (%s%s), batch %d per side%s, from iteration %d%s", t.device,
                 t.precision.label, f"; {switches}" if switches else "", self.config.batch_size,
                 processes, t.iteration, f" for {limit} iterations" if limit else " until Ctrl-C")
        logger.info("previews every %d iterations: %s (history in %s)",
                 self.config.preview_interval, t.folder.preview, t.folder.previews)
        while limit is None or self.steps < limit:
            batch = {side: b.to(t.device, non_blocking=True)
                     for side, b in next(self.batches).items()}
            if not t.step(batch):
                if self._skipped_step():
                    return "non_finite"
                continue
            self.steps += 1
            t.state.iteration += 1
            self._timed_steps += 1
            self.consecutive_skips = 0
            self.bar.step()
            if self._after_step() is False:
                return "callback"
            if self.signals is not None and self.t.replicas.any_true(self.signals.requested):
                raise KeyboardInterrupt   # every process stops after this same step
        return "completed"

    def _skipped_step(self) -> bool:
        """Count a non-finite step; True when too many came in a row."""
        self.skipped += 1
        self.consecutive_skips += 1
        limit = self.config.nan_protection.max_consecutive
        logger.warning("iteration %d: loss is not finite (NaN or inf): step skipped (%d in a row, "
                    "stopping at %d)", self.t.iteration + 1, self.consecutive_skips, limit)
        if self.consecutive_skips >= limit:
            logger.error("stopping: %d consecutive non-finite losses. Try a lower learning rate, "
                      "gradient clipping (--clipping autoclip) or --mixed-precision off",
                      self.consecutive_skips)
            return True
        return False

    def _after_step(self) -> bool | None:
        iteration, config = self.t.iteration, self.config
        keep_going = None
        if iteration % config.log_interval == 0:
            keep_going = self.report()
            # A callback may stop any process: they all stop at this same iteration.
            if self.t.replicas.any_true(keep_going is False):
                keep_going = False
        if iteration % config.preview_interval == 0:
            self.write_preview()
        if iteration % config.save_interval == 0:
            self.save()
            if self.main and config.snapshot_interval and \
                    iteration % config.snapshot_interval == 0:
                logger.info("snapshot: %s", snapshot(self.t.model_dir, iteration))
        return keep_going

    # --- feedback ---------------------------------------------------------------------------
    def report(self, notify: bool = True) -> bool | None:
        """Read the losses, update bar and TensorBoard; `notify` calls `on_progress`."""
        losses = self.t.replicas.mean(self.t.step.meter.read())   # over all processes
        if not losses:
            return None
        elapsed = time.perf_counter() - self._timer_start
        egs = self.config.batch_size * 2 * self._timed_steps / max(elapsed, 1e-9)
        progress = Progress(self.t.iteration, losses, egs,
                            self.t.parts.optimizer.param_groups[0]["lr"], self.skipped)
        self.skipped = 0
        self.history.append(progress)
        self.reported_since_save.append(progress)
        self.bar.report(progress)
        if self.tensorboard:
            self.tensorboard.report(progress)
        self._restart_timer()
        return self.on_progress(progress) if self.on_progress and notify else None

    def _restart_timer(self) -> None:
        # Saves and previews are not training: the EGs/sec clock restarts after them.
        self._timer_start, self._timed_steps = time.perf_counter(), 0

    def write_preview(self) -> None:
        t = self.t
        self.previewed_at = t.iteration
        if not (self.main or t.replicas.sharded):
            return
        image = render_preview(t.model, t.samples, t.precision, t.iteration)
        if not self.main:
            return
        self.preview = write_preview(t.folder, t.iteration, image)
        if self.tensorboard:
            self.tensorboard.image(t.iteration, image)
        if self.scorer:
            report = self.scorer.score(t.model, t.samples, t.precision)
            if report is not None:
                self.tensorboard.scalars(t.iteration, score_scalars(report))
            set_frozen_norms_eval(t.model)
        self._restart_timer()

    def save(self) -> None:
        t = self.t
        self.report(notify=False)  # so the loss history covers every step up to this save
        if self.reported_since_save:
            t.state.loss_history.append(self._mean_losses(self.reported_since_save))
            self.reported_since_save = []
        full_state = (t.replicas.full_state(t.model, t.parts.optimizer)  # all processes gather
                      if t.replicas.sharded else None)
        if not self.main:
            self.saved_at = t.iteration
        elif save_training_state(t.model_dir, t.components, full_state):
            self.checkpoint = t.folder.latest
            self.saved_at = t.iteration
            logger.debug("saved iteration %d", t.iteration)
        if self.tensorboard:
            self.tensorboard.flush()
        self._restart_timer()

    def _mean_losses(self, reports: list[Progress]) -> dict[str, float]:
        means = {"iteration": float(self.t.iteration)}
        for side in SIDES:
            values = [r.losses[side] for r in reports if side in r.losses]
            if values:
                means[side] = sum(values) / len(values)
        return means

    def finish(self) -> None:
        """Save and preview the final state (unless just done), then close the logs."""
        t = self.t
        if t.iteration != self.previewed_at:
            self.write_preview()
        if t.iteration != self.saved_at:
            self.save()
        if self.tensorboard:
            self.tensorboard.close()
        logger.info("stopped (%s) at iteration %d; model in %s%s", self.stopped, t.iteration,
                 t.model_dir, f", latest preview {t.folder.preview}"
                 if self.preview else "")
