"""The reuse experiment's typed settings: what to compare, on which faces, for how long."""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from phaze.errors import ConfigError
from phaze.train.config import TrainerConfig

DEFAULT_ITERATIONS = 200  # a few minutes per recipe for a small design on a CPU


@dataclass(frozen=True)
class ReuseConfig:
    """One experiment: train the new pair (new A, old B) under each recipe and compare.

    `trainer` holds how each recipe trains (batch, learning rate, precision, device); its
    `iterations` and `seed` are replaced by this config's, so every recipe runs the same
    number of steps on the same stream.
    """

    old_model: Path
    faces_a: Path                      # the new person A
    faces_b: Path                      # B, as in the old model
    model_dir: Path                    # the experiment's folder (results, best model)
    old_faces_a: Path | None = None    # the old A's faces: needed for the leakage figure
    iterations: int = DEFAULT_ITERATIONS
    seed: int = 0
    holdout: float = 0.2               # share of each face set kept out of training
    recipes: tuple[str, ...] = ()      # empty: every recipe the design can have
    keep_all: bool = False             # keep every recipe's model, not only the best's
    score_limit: int = 32              # held-out faces per side scored at most
    preview_faces: int = 6             # faces per direction in the comparison sheet
    trainer: TrainerConfig = field(default_factory=TrainerConfig)

    def __post_init__(self) -> None:
        if isinstance(self.iterations, bool) or not isinstance(self.iterations, int) \
                or self.iterations < 1:
            raise ConfigError(f"reuse option 'iterations' = {self.iterations!r} is invalid: "
                              "expected an integer from 1 or more")
        if not 0.0 < self.holdout < 1.0:
            raise ConfigError(f"reuse option 'holdout' = {self.holdout!r} is invalid: expected "
                              "a share between 0 and 1 (exclusive), e.g. 0.2")
        for name in ("score_limit", "preview_faces"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(f"reuse option '{name}' = {value!r} is invalid: expected "
                                  "an integer from 1 or more")

    def recipe_trainer(self) -> TrainerConfig:
        """The trainer settings of every recipe: same steps, seed, no TensorBoard; one save
        and one preview at the end (the comparison renders its own)."""
        log_interval = max(1, min(self.trainer.log_interval, self.iterations // 20 or 1))
        return self.trainer.replace(
            iterations=self.iterations, seed=self.seed, tensorboard=False,
            save_interval=self.iterations, preview_interval=self.iterations,
            snapshot_interval=0, log_interval=log_interval)

    def fingerprint(self) -> dict[str, Any]:
        """What must match for a re-run to reuse finished recipes (JSON-ready)."""
        return {"old_model": str(self.old_model.resolve()),
                "faces_a": str(self.faces_a.resolve()), "faces_b": str(self.faces_b.resolve()),
                "old_faces_a": str(self.old_faces_a.resolve()) if self.old_faces_a else None,
                "iterations": self.iterations, "seed": self.seed, "holdout": self.holdout,
                "score_limit": self.score_limit, "preview_faces": self.preview_faces,
                # Threads change the speed, not the result: a re-run may use others.
                "trainer": {k: v for k, v in self.recipe_trainer().to_dict().items()
                            if k != "threads"}}

    def replace(self, **changes: Any) -> "ReuseConfig":
        return dataclasses.replace(self, **changes)
