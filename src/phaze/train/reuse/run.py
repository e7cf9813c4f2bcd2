"""`phaze reuse`: train a new pair under each load/freeze recipe from an old model, score each
on held-out faces, rank them, keep the best model.

The experiment folder holds `recipes/<name>/` (model folders), `results/<name>.json` and
`.png` (written last, whole: a recipe is finished when its result exists), and the report. A
re-run with the same settings skips finished recipes and starts unfinished ones again from the
beginning, so every recipe's figures come from one uninterrupted run.
"""
from __future__ import annotations

import json
import logging
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from phaze.storage.checkpoint import has_checkpoint, load_checkpoint, read_options
from phaze.errors import ConfigError, ModelDirError
from phaze.io.images import encode_image, read_image, write_bytes_atomic
from phaze.model.design import plan_design
from phaze.storage.framing_file import read_model_framing
from phaze.train.run_log import Progress
from phaze.train.reuse.fingerprint import first_batch_digest, submodel_digests
from phaze.train.reuse.holdout import FaceSplit, split_faces
from phaze.score.recognizer import CachingRecognizer
from phaze.train.reuse.measure import (ScoringFaces, final_loss,
                                       iterations_to_reach, loss_curve, measure_recipe,
                                       read_faces)
from phaze.train.reuse.recipes import SCRATCH, Recipe, SkippedRecipe, derive_recipes
from phaze.train.reuse.report import ranked, write_report
from phaze.train.reuse.settings import ReuseConfig
from phaze.train.threads import torch_threads
from phaze.train.reuse.sheet import compose_sheet, original_row, recipe_row

logger = logging.getLogger(__name__)

EXPERIMENT_FILE = "experiment.json"
RECIPES, RESULTS = "recipes", "results"
RecipeProgress = Callable[[str, Progress], "bool | None"]


@dataclass
class Experiment:
    """Everything the recipes share, prepared once."""

    config: ReuseConfig
    recipes: list[Recipe]
    skipped: list[SkippedRecipe]
    splits: dict[str, FaceSplit]
    faces: ScoringFaces
    old_digests: dict[str, str]


def run_reuse(config: ReuseConfig, on_progress: RecipeProgress | None = None,
              recognizer=None, command: str | None = None) -> dict[str, Any]:
    """Run (or finish) the experiment; return the report also written to reuse.json.

    `command`: the command line that started it, recorded in the report to repeat it.

    `on_progress(recipe, progress)` returning False stops the run like Ctrl-C: the recipe in
    progress is dropped, finished ones are kept, and KeyboardInterrupt is raised.
    """
    experiment = prepare(config)
    recognizer = CachingRecognizer(recognizer)
    results = [finished_result(config, recipe.name) or
               run_recipe(experiment, recipe, recognizer, on_progress)
               for recipe in experiment.recipes]
    return finish(experiment, results, command)


# --- preparation ------------------------------------------------------------------------------
def prepare(config: ReuseConfig) -> Experiment:
    """Read the old model, derive the recipes, split the faces and claim the folder."""
    options = read_options(config.old_model)
    if not has_checkpoint(config.old_model):
        raise ModelDirError(f"--from '{config.old_model}' holds no trained weights to reuse")
    recipes, skipped = derive_recipes(options, config.recipes)
    for skip in skipped:
        logger.info("reuse: recipe '%s' skipped: %s", skip.name, skip.reason)
    splits = {side: split_faces(folder, side, config.holdout)
              for side, folder in (("a", config.faces_a), ("b", config.faces_b))}
    _claim_folder(config)
    design = plan_design(options)
    working = max(design.input_size, options.output_size)
    framing = read_model_framing(config.old_model)
    faces = ScoringFaces(
        a=read_faces(splits["a"].held_out, framing, working, config.score_limit, "held-out A"),
        b=read_faces(splits["b"].held_out, framing, working, config.score_limit, "held-out B"),
        old_a=_old_faces(config, framing, working))
    old = load_checkpoint(config.old_model, with_optimizer=False)
    names = sorted({name for recipe in recipes for name in recipe.load})
    return Experiment(config, recipes, skipped, splits, faces,
                      submodel_digests(old.weights, names))


def _old_faces(config: ReuseConfig, framing, size_px: int):
    if config.old_faces_a is None:
        logger.warning("reuse: no --old-faces-a: identity leakage toward the old A is not measured")
        return None
    from phaze.formats.face_files import list_images

    return read_faces(list_images(config.old_faces_a), framing, size_px, config.score_limit,
                      f"old A faces in {config.old_faces_a}")


def _claim_folder(config: ReuseConfig) -> None:
    """Write the settings, or check that a re-run uses the ones the finished recipes used."""
    path = config.model_dir / EXPERIMENT_FILE
    wanted = config.fingerprint()
    if path.is_file():
        saved = json.loads(path.read_text(encoding="utf-8"))
        differing = sorted(key for key in set(saved) | set(wanted)
                           if saved.get(key) != wanted.get(key))
        if differing:
            details = "; ".join(f"{key}: {wanted.get(key)!r} now, {saved.get(key)!r} before"
                                for key in differing)
            raise ConfigError(f"--model-dir '{config.model_dir}' holds an experiment with other "
                              f"settings ({details}): use the same settings to resume it, or "
                              "another --model-dir")
        return
    config.model_dir.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, json.dumps(wanted, indent=2).encode())


# --- one recipe ---------------------------------------------------------------------------------
def recipe_dir(config: ReuseConfig, name: str) -> Path:
    return config.model_dir / RECIPES / name


def _result_path(config: ReuseConfig, name: str, suffix: str) -> Path:
    return config.model_dir / RESULTS / f"{name}{suffix}"


def finished_result(config: ReuseConfig, name: str) -> dict | None:
    path = _result_path(config, name, ".json")
    if not path.is_file():
        return None
    logger.info("reuse: recipe '%s' finished before: kept", name)
    return json.loads(path.read_text(encoding="utf-8"))


def recipe_trainer(experiment: Experiment, recipe: Recipe):
    """The Trainer of `recipe`, set up on a fresh folder (nothing trained yet)."""
    from phaze.train.loop import Trainer

    config = experiment.config
    folder = recipe_dir(config, recipe.name)
    if folder.exists():
        shutil.rmtree(folder)   # an unfinished run: start it again, not half-way
    options = read_options(config.old_model)
    return Trainer(experiment.splits["a"].train, experiment.splits["b"].train, folder, options,
                   config.recipe_trainer(),
                   load_weights=config.old_model if recipe.load else None,
                   load_layers=list(recipe.load) if recipe.load else None,
                   freeze_layers=list(recipe.freeze),
                   framing=read_model_framing(config.old_model))


def run_recipe(experiment: Experiment, recipe: Recipe, recognizer: CachingRecognizer,
               on_progress: RecipeProgress | None) -> dict:
    config = experiment.config
    logger.info("reuse: recipe '%s' (%s): training %d iterations", recipe.name,
             recipe.description, config.iterations)
    started = time.perf_counter()
    trainer = recipe_trainer(experiment, recipe)
    start = submodel_digests(trainer.model.state_dict(), list(trainer.model.submodels()))
    stream = first_batch_digest(trainer)
    result = trainer.run(None if on_progress is None
                         else lambda progress: on_progress(recipe.name, progress))
    if result.stopped in ("interrupted", "callback"):
        logger.info("reuse: stopped during recipe '%s'; finished recipes are kept, run the same "
                 "command again to finish the rest", recipe.name)
        raise KeyboardInterrupt
    folder = recipe_dir(config, recipe.name)
    with torch_threads(config.trainer.threads):
        measured = measure_recipe(folder, experiment.faces, recognizer)
    row = recipe_row(measured.swaps_to_b, measured.swaps_to_a, config.preview_faces)
    (config.model_dir / RESULTS).mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(_result_path(config, recipe.name, ".png"), encode_image(row, ".png"))
    outcome = {"recipe": recipe.name, "description": recipe.description,
               "load": list(recipe.load), "freeze": list(recipe.freeze),
               "stopped": result.stopped, "iterations": result.iteration,
               "train_s": result.elapsed_s, "wall_s": time.perf_counter() - started,
               "curve": loss_curve(result.history), "start": start, "stream": stream,
               "trained_on": {side: len(split.train.records)
                              for side, split in experiment.splits.items()},
               "figures": measured.figures}
    # Written last: its presence is what marks the recipe finished.
    write_bytes_atomic(_result_path(config, recipe.name, ".json"),
                       json.dumps(outcome, indent=2).encode())
    return outcome


# --- the comparison -----------------------------------------------------------------------------
def consistency(results: list[dict], old_digests: dict[str, str]) -> dict[str, bool]:
    """Did every recipe see the same stream, and start from the same weights (each fresh
    sub-model as in the baseline, each loaded one as in the old model)?"""
    baseline = next(r for r in results if r["recipe"] == SCRATCH)
    same_stream = all(r["stream"] == baseline["stream"] for r in results)
    same_start = all(
        digest == (old_digests.get(name) if name in r["load"] else baseline["start"][name])
        for r in results for name, digest in r["start"].items())
    return {"same_stream": same_stream, "same_start": same_start}


def finish(experiment: Experiment, results: list[dict],
           command: str | None = None) -> dict[str, Any]:
    config = experiment.config
    baseline = next(r for r in results if r["recipe"] == SCRATCH)
    target = final_loss(baseline["curve"])
    rows = [dict(r, final_loss=final_loss(r["curve"]),
                 iterations_to_baseline=iterations_to_reach(r["curve"], target))
            for r in results]
    ranking = ranked(rows)
    best = ranking[0]["recipe"]
    checks = consistency(results, experiment.old_digests)
    if not all(checks.values()):
        logger.error("reuse: recipes did not start alike (%s): the comparison is not fair", checks)
    report = {"config": config.fingerprint(), "command": command, "best": best,
              "best_model_dir": str(recipe_dir(config, best)),
              "held_out": {side: len(split.held_out) for side, split in experiment.splits.items()},
              "ranking": ranking, "skipped": [asdict(s) for s in experiment.skipped],
              "checks": checks}
    _write_sheet(experiment, ranking)
    write_report(config.model_dir, report)
    if not config.keep_all:
        for row in ranking[1:]:
            shutil.rmtree(recipe_dir(config, row["recipe"]), ignore_errors=True)
    _print_table(report)
    return report


def _write_sheet(experiment: Experiment, ranking: list[dict]) -> None:
    config = experiment.config
    rows = [(f"{r['rank']}. {r['recipe']}",
             read_image(_result_path(config, r["recipe"], ".png"))) for r in ranking]
    header = original_row(experiment.faces, config.preview_faces)
    sheet = compose_sheet(header, rows, {r["recipe"]: r["curve"] for r in ranking})
    write_bytes_atomic(config.model_dir / "reuse.png", encode_image(sheet, ".png"))


def _print_table(report: dict[str, Any]) -> None:
    from phaze.train.reuse.report import markdown

    print(markdown(report), end="")
