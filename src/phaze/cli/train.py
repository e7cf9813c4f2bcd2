"""`phaze train`: parse the command line and call phaze.train (nothing else happens here)."""
from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phaze.cli.design import add_design_arguments, options_from_args
from phaze.config.options import PhazeAOptions
from phaze.config.parse import options_from_mapping, parse_set_pairs
from phaze.errors import ConfigError

if TYPE_CHECKING:
    from phaze.train.config import TrainerConfig


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "train", help="train (or resume) a model on two face folders",
        description="Train a Phaze-A model on faces of person A and person B, or resume the "
                    "model in --model-dir. Try it without data: phaze train --demo "
                    "--model-dir DIR")
    _data_arguments(parser)
    add_design_arguments(parser)
    _trainer_arguments(parser)
    _weights_arguments(parser)
    _framing_arguments(parser)
    parser.set_defaults(func=run)


def _framing_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "framing (saved with the model in framing.json; a resume cannot change it)")
    group.add_argument("--centering", metavar="face|head|legacy",
                       help="how training faces are centred (new models: face)")
    group.add_argument("--coverage", type=float, metavar="PERCENT",
                       help="share of the face the model sees, 62.5-100 %% (new models: 100)")
    group.add_argument("--vertical-offset", type=float, metavar="PERCENT",
                       help="move the crop up (+) or down (-), -25 to 25 %% (new models: 0)")


def _framing(args: argparse.Namespace):
    """The framing asked for, on top of the saved one (the trainer refuses a change on resume);
    None when nothing was asked."""
    from phaze.storage.framing_file import read_model_framing

    asked = {"centering": args.centering, "coverage": args.coverage,
             "vertical_offset": args.vertical_offset}
    asked = {name: value for name, value in asked.items() if value is not None}
    if not asked:
        return None
    return dataclasses.replace(read_model_framing(args.model_dir), **asked)


def _data_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("data")
    group.add_argument("--faces-a", type=Path, help="folder of aligned faces of person A "
                       "(masks, if any, in its masks/ sub-folder)")
    group.add_argument("--faces-b", type=Path, help="folder of aligned faces of person B")
    group.add_argument("--model-dir", type=Path, required=True,
                       help="the model folder: created if new, resumed if it holds a model")
    group.add_argument("--demo", action="store_true",
                       help="train the 'demo' preset on two synthetic people (no data needed)")


def _trainer_arguments(parser: argparse.ArgumentParser) -> None:
    # Defaults are None: an option not given keeps the saved (or the default) setting.
    group = parser.add_argument_group("training")
    add = group.add_argument
    add("--batch-size", type=int, help="faces per side per step (1-256, default 16)")
    add("--iterations", type=int, help="steps to train in this run (default: until Ctrl-C)")
    add("--save-interval", type=int, help="save every N iterations (default 250)")
    add("--preview-interval", type=int, help="write a preview every N iterations (default 250)")
    add("--snapshot-interval", type=int, help="copy the checkpoint every N iterations "
        "(default 25000, 0 = off)")
    add("--learning-rate", type=float, help="default 5e-5")
    add("--optimizer", help="adam (default), adamw, adabelief, lion or sgd")
    add("--losses", help="weighted loss list, e.g. ssim:1,mse:1 (the default)")
    add("--mixed-precision", help="auto (default: bf16 on a capable GPU), off, bf16 or fp16")
    add("--moments", help="how adam/adamw store their two moments: float32 (default) or "
        "bfloat16 (half the memory, stochastic rounding)")
    add("--warmup", type=int, help="learning-rate warm-up steps (default 0)")
    add("--clipping", help="none (default), autoclip, global_norm, norm or value")
    add("--workers", type=int, help="data-loading processes (default 2)")
    add("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    add("--seed", type=int, help="random seed (default 0)")
    add("--device", help="auto (default), cpu, cuda or cuda:N")
    add("--nproc", type=int, metavar="N", help="train on N processes of this machine (one per "
        "GPU; the batch is split over them), as torchrun --nproc-per-node N would")
    add("--parallel", help="with several processes: ddp (default: a full copy of the model "
        "in each) or fsdp (weights, gradients and optimiser state sharded over them)")
    add("--no-tensorboard", action="store_true", help="do not write TensorBoard logs")
    add("--warp-to-landmarks", action="store_true", default=None,
        help="warp inputs toward similar faces of the other side (needs landmarks)")
    masks = parser.add_argument_group("masks and loss weighting (faceswap's defaults)")
    add = masks.add_argument
    add("--mask-type", help="extended (default), components, stored, folder, occlusion or none")
    add("--mask-model", metavar="DIR", help="occlusion: a mask model from `phaze mask train`; "
        "its masks are written to each face folder's masks/ before training")
    add("--mask-blur", type=int, metavar="PX", help="mask blur kernel on a 128 px face (3)")
    add("--mask-threshold", type=float, metavar="PERCENT", help="mask threshold (4)")
    add("--mask-dilation", type=float, metavar="PERCENT", help="grow (+) or shrink (-) (0)")
    add("--eye-multiplier", type=float, help="loss weight of the eyes (3; 1 = off)")
    add("--mouth-multiplier", type=float, help="loss weight of the mouth (2; 1 = off)")
    add("--no-penalized-mask-loss", action="store_true",
        help="compute the loss over the whole face, not only inside the mask")


def _weights_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("weights")
    group.add_argument("--load-weights", type=Path, metavar="MODEL_DIR",
                       help="a new model copies sub-models from this model folder")
    group.add_argument("--load-layers", metavar="NAMES",
                       help="comma-separated sub-models to copy (default: the options' "
                            "load_layers, i.e. encoder)")
    group.add_argument("--freeze-layers", nargs="?", const=True, metavar="NAMES",
                       help="freeze these comma-separated sub-models for this run; without "
                            "names, the options' freeze_layers")


# --- turning arguments into library calls ---------------------------------------------------
def run(args: argparse.Namespace) -> int:
    from phaze.train.distributed import World
    from phaze.train.model_lock import lock_for_workers, model_folder_lock
    from phaze.train.stop import interrupt_on_stop_signals

    interrupt_on_stop_signals()   # whatever this process inherited (see phaze.train.stop)

    world = World.from_environment()
    if not world.is_main:   # rank 0 speaks for every process
        logging.getLogger().setLevel(logging.ERROR)
    from phaze.train.loop import train  # imports torch: keep `phaze --help` fast

    options, trainer = _requested_options(args), trainer_from_args(args)
    if args.nproc is not None and not world.distributed:
        # The options are checked once here, so a typo is one line, not one per process.
        from phaze.train.in_backward import in_backward_blocker
        from phaze.train.launch import launch_workers, without_nproc
        from phaze.train.speed import resolve_speed

        if trainer is not None:   # switches that cannot run on several processes
            resolve_speed(trainer.speed, "cpu", None,
                          in_backward_blocker(trainer.optimizer, False, args.nproc))
        with lock_for_workers(args.model_dir):
            return launch_workers(args.nproc, without_nproc(args.command_line),
                                  args.model_dir, trainer.batch_size)
    # rank 0 speaks for the folder: one lock per run, whichever process started it
    with model_folder_lock(args.model_dir) if world.is_main else contextlib.nullcontext():
        faces_a, faces_b = _face_sources(args)  # after the checks: --demo draws faces
        result = train(faces_a, faces_b, args.model_dir, options, trainer,
                       load_weights=args.load_weights, load_layers=_names(args.load_layers),
                       freeze_layers=_freeze_names(args.freeze_layers), framing=_framing(args))
    if not world.is_main:
        return 1 if result.stopped == "non_finite" else 0
    print(f"stopped ({result.stopped}) at iteration {result.iteration} after {result.steps} "
          f"steps in {result.elapsed_s:.0f} s; model: {result.model_dir}")
    if result.preview is not None:
        print(f"latest preview: {result.model_dir / 'preview.png'} "
              f"(all previews in {result.model_dir / 'previews'})")
    return 1 if result.stopped == "non_finite" else 0


def _face_sources(args: argparse.Namespace):
    if args.demo:
        if args.faces_a or args.faces_b:
            raise ConfigError("--demo draws its own faces: leave out --faces-a/--faces-b")
        from phaze.train.demo import demo_sources

        return demo_sources()
    if not (args.faces_a and args.faces_b):
        raise ConfigError("--faces-a and --faces-b are both required (or try --demo)")
    return args.faces_a, args.faces_b


def _requested_options(args: argparse.Namespace) -> PhazeAOptions | None:
    """The options the user asked for; None means "whatever the model folder holds"."""
    from phaze.storage.checkpoint import is_model_dir, read_options  # imports torch
    from phaze.config.presets import read_config_file

    if args.config and not read_config_file(args.config):
        # Only [trainer] tables: training settings, not a design; the model stays as it
        # would be without the file (the demo's, the folder's, or the preset's).
        args = argparse.Namespace(**{**vars(args), "config": None})
    if args.demo and not (args.preset or args.config):
        from phaze.train.demo import DEMO_PRESET

        args = argparse.Namespace(**{**vars(args), "preset": DEMO_PRESET})
    if is_model_dir(args.model_dir) and not (args.preset or args.config):
        # Resuming: --set changes only what it names (updatable options, or a clear error).
        overrides = parse_set_pairs(args.sets)
        return options_from_mapping(overrides, read_options(args.model_dir)) if overrides \
            else None
    return options_from_args(args)


def trainer_from_args(args: argparse.Namespace) -> TrainerConfig:
    """Saved settings (or the defaults) < the --config file's [trainer] < the options given."""
    from phaze.train.config import apply_changes, resolve_trainer_config, trainer_from_toml
    from phaze.train.demo import demo_trainer

    config_file = args.config or (args.preset if args.preset and
                                  str(args.preset).endswith(".toml") else None)
    toml_changes = trainer_from_toml(config_file) if config_file else {}
    if args.demo:
        base = apply_changes(demo_trainer(), toml_changes)
    else:
        base = resolve_trainer_config(args.model_dir, None, toml_changes)
    return base.replace(**_trainer_changes(args, base))


def _trainer_changes(args: argparse.Namespace, base: TrainerConfig) -> dict[str, Any]:
    from phaze.train.losses import parse_loss_list

    plain = {"batch_size": args.batch_size, "iterations": args.iterations,
             "save_interval": args.save_interval, "preview_interval": args.preview_interval,
             "snapshot_interval": args.snapshot_interval, "mixed_precision":
             args.mixed_precision, "workers": args.workers, "threads": args.threads,
             "seed": args.seed, "device": args.device, "parallel": args.parallel}
    changes = {name: value for name, value in plain.items() if value is not None}
    if args.no_tensorboard:
        changes["tensorboard"] = False
    optimizer = {"learning_rate": args.learning_rate, "name": args.optimizer,
                 "clipping": args.clipping, "warmup_steps": args.warmup,
                 "moments": args.moments}
    optimizer = {name: value for name, value in optimizer.items() if value is not None}
    if optimizer:
        changes["optimizer"] = dataclasses.replace(base.optimizer, **optimizer)
    losses = {}
    if args.losses is not None:
        losses["functions"] = parse_loss_list(args.losses)
    if args.no_penalized_mask_loss:
        losses["penalized_mask_loss"] = False
    if losses:
        changes["losses"] = dataclasses.replace(base.losses, **losses)
    if args.warp_to_landmarks:
        changes["augment"] = dataclasses.replace(base.augment, warp_to_landmarks=True)
    masks = {"mask_type": args.mask_type, "blur_kernel": args.mask_blur,
             "threshold": args.mask_threshold, "dilation": args.mask_dilation,
             "eye_multiplier": args.eye_multiplier, "mouth_multiplier": args.mouth_multiplier,
             "mask_model": args.mask_model}
    masks = {name: value for name, value in masks.items() if value is not None}
    if masks:
        changes["masks"] = dataclasses.replace(base.masks, **masks)
    return changes


def _names(text: str | None) -> list[str] | None:
    if text is None:
        return None
    return [name for name in text.replace(" ", ",").split(",") if name]


def _freeze_names(value: str | bool | None) -> list[str] | bool:
    if value is None:
        return ()
    if value is True:
        return True
    return _names(value)
