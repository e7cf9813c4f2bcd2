"""Reuse experiments: train a new pair under load/freeze recipes from an old model, compare.

Only the recipe catalogue is imported eagerly: `phaze --help` lists the recipe names and must
not load torch. `run_reuse` and `ReuseConfig` load on first use.
"""
from phaze.train.reuse.recipes import Recipe, SkippedRecipe, derive_recipes, recipe_names

__all__ = ["Recipe", "ReuseConfig", "SkippedRecipe", "derive_recipes", "recipe_names",
           "run_reuse"]


def __getattr__(name: str):
    if name == "run_reuse":
        from phaze.train.reuse.run import run_reuse
        return run_reuse
    if name == "ReuseConfig":
        from phaze.train.reuse.settings import ReuseConfig
        return ReuseConfig
    raise AttributeError(f"module 'phaze.train.reuse' has no attribute {name!r}")
