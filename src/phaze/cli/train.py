"""`phaze train`: parse the command line and call phaze.train (nothing else happens here)."""
from __future__ import annotations

import argparse
from pathlib import Path

from phaze.cli.design import add_design_arguments


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
    # Made from the settings' own fields. Defaults are None: a flag not given keeps the saved
    # (or the default) setting.
    from phaze.train.settings import trainer_flags

    training = parser.add_argument_group("training")
    masks = parser.add_argument_group("masks and loss weighting (faceswap's defaults)")
    for item in trainer_flags():
        group = masks if item.path[0] in ("masks", "losses") and item.flag != "--losses" \
            else training
        if item.value_type is None:
            group.add_argument(item.flag, dest=item.dest, action="store_const",
                               const=item.store, help=item.help)
        else:
            group.add_argument(item.flag, dest=item.dest, type=item.parse or item.value_type,
                               metavar=item.flag[2:].upper().replace("-", "_"), help=item.help)
    training.add_argument("--nproc", type=int, metavar="N", help="train on N processes of "
                          "this machine (one per GPU; the batch is split over them), as "
                          "torchrun --nproc-per-node N would")


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


# --- turning arguments into one library call ------------------------------------------------
def run(args: argparse.Namespace) -> int:
    from phaze.train.run import end_group_worker, run_training  # torch: keep --help fast

    outcome = run_training(request_from_args(args))
    result = outcome.result
    if result is not None:   # rank 0 (or the only process) reports
        print(f"stopped ({result.stopped}) at iteration {result.iteration} after "
              f"{result.steps} steps in {result.elapsed_s:.0f} s; model: {result.model_dir}")
        if result.preview is not None:
            from phaze.storage.folder import ModelFolder

            folder = ModelFolder(result.model_dir)
            print(f"latest preview: {folder.preview} (all previews in {folder.previews})")
    if outcome.group_worker:
        end_group_worker(outcome.exit_code)
    return outcome.exit_code


def request_from_args(args: argparse.Namespace):
    from phaze.train.settings import RunRequest, trainer_flags

    given = {item.path: getattr(args, item.dest) for item in trainer_flags()
             if getattr(args, item.dest) is not None}
    framing = {"centering": args.centering, "coverage": args.coverage,
               "vertical_offset": args.vertical_offset}
    return RunRequest(
        model_dir=args.model_dir, faces_a=args.faces_a, faces_b=args.faces_b, demo=args.demo,
        preset=args.preset, config=args.config, sets=tuple(args.sets), trainer_flags=given,
        framing={name: value for name, value in framing.items() if value is not None},
        load_weights=args.load_weights, load_layers=_names(args.load_layers),
        freeze_layers=_freeze_names(args.freeze_layers), nproc=args.nproc,
        command_line=tuple(getattr(args, "command_line", ())))


def _names(text: str | None) -> tuple[str, ...] | None:
    if text is None:
        return None
    return tuple(name for name in text.replace(" ", ",").split(",") if name)


def _freeze_names(value: str | bool | None) -> tuple[str, ...] | bool:
    if value is None:
        return ()
    if value is True:
        return True
    return _names(value)
