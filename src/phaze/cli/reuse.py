"""`phaze reuse`: which parts of an old model to load and freeze for a new pair, measured."""
from __future__ import annotations

import argparse
import shlex
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reuse", help="compare load/freeze recipes from an old model on a new pair",
        description="Train the new pair (--faces-a, --faces-b) under several recipes of loading "
                    "and freezing the old model's sub-models (from scratch, encoder, encoder + "
                    "B's FC, + B's decoder, + G-Block, all but A's own parts), each for the same "
                    "iterations, seed and data; score each on held-out faces (identity, "
                    "expression, SSIM, leakage toward the old A) and rank them. Writes "
                    "reuse.md, reuse.json and reuse.png in --model-dir and keeps the best "
                    "recipe's model. Interrupted runs resume: run the same command again.")
    add = parser.add_argument
    add("--from", dest="old_model", type=Path, required=True, metavar="OLD_MODEL",
        help="the trained model folder to reuse (its options and framing are used)")
    add("--faces-a", type=Path, required=True, help="faces of the NEW person A")
    add("--faces-b", type=Path, required=True, help="faces of person B (as in the old model)")
    add("--model-dir", type=Path, required=True, help="folder for the experiment")
    add("--old-faces-a", type=Path, help="faces of the OLD person A: measures whether the old "
        "A's identity leaks into the new swaps")
    add("--iterations", type=int, default=None, help="iterations per recipe (default 200)")
    add("--seed", type=int, default=0, help="seed of every recipe's weights and data (0)")
    add("--holdout", type=float, default=0.2,
        help="share of each face set kept out of training and scored (0.2)")
    add("--recipes", help="comma-separated subset of: "
        + ", ".join(_recipe_names()) + " (default: all the design can have)")
    add("--keep-all", action="store_true", help="keep every recipe's model, not only the best")
    add("--score-limit", type=int, default=32, help="held-out faces per side scored (32)")
    add("--batch-size", type=int, help="faces per side per step (default: the old model's)")
    add("--learning-rate", type=float, help="default: the old model's")
    add("--mixed-precision", help="auto, off, bf16 or fp16 (default: the old model's)")
    add("--device", help="auto, cpu, cuda or cuda:N (default: the old model's)")
    add("--threads", type=int, help="CPU threads for torch (default: torch's choice)")
    parser.set_defaults(func=run)


def _recipe_names() -> tuple[str, ...]:
    from phaze.train.reuse.recipes import recipe_names

    return recipe_names()


def _trainer(args: argparse.Namespace):
    """The old model's trainer settings (or the defaults), with this command's changes."""
    from phaze.train.config import resolve_trainer_config

    changes = {name: getattr(args, name) for name in
               ("batch_size", "mixed_precision", "device", "threads")
               if getattr(args, name) is not None}
    if args.learning_rate is not None:
        changes["optimizer"] = {"learning_rate": args.learning_rate}
    return resolve_trainer_config(args.old_model, changes=changes)


def run(args: argparse.Namespace) -> int:
    from phaze.train.reuse import ReuseConfig, run_reuse
    from phaze.train.reuse.settings import DEFAULT_ITERATIONS

    recipes = tuple(n.strip() for n in (args.recipes or "").split(",") if n.strip())
    config = ReuseConfig(
        old_model=args.old_model, faces_a=args.faces_a, faces_b=args.faces_b,
        model_dir=args.model_dir, old_faces_a=args.old_faces_a,
        iterations=args.iterations if args.iterations is not None else DEFAULT_ITERATIONS,
        seed=args.seed, holdout=args.holdout, recipes=recipes, keep_all=args.keep_all,
        score_limit=args.score_limit, trainer=_trainer(args))
    run_reuse(config, command=" ".join(["phaze"] + [shlex.quote(a) for a in args.command_line]))
    return 0
