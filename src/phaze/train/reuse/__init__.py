"""Reuse experiments: train a new pair under load/freeze recipes from an old model, compare."""
from phaze.train.reuse.recipes import Recipe, SkippedRecipe, derive_recipes, recipe_names
from phaze.train.reuse.run import run_reuse
from phaze.train.reuse.settings import ReuseConfig

__all__ = ["Recipe", "ReuseConfig", "SkippedRecipe", "derive_recipes", "recipe_names",
           "run_reuse"]
