"""A model trained at coverage 87.5 % swaps plain crops framed exactly like its training crops
(faceswap PNGs: tests/data/sources/test_astronaut_training.py)."""
from __future__ import annotations

import numpy as np
import torch

from phaze.config.presets import resolve_options
from phaze.data.faceset import load_faceset
from phaze.data.loader import preview_batch
from phaze.faces.framing import Framing
from phaze.io.images import write_image
from phaze.model.phaze_a import build_model
from phaze.inference.folder_swap import Swapper, framed_image


def test_swap_input_equals_the_training_crop_at_coverage_87_5(tmp_path, train_tiny,
                                                              gradient_face_80) -> None:
    torch.manual_seed(0)
    model = build_model(resolve_options(overrides=train_tiny))
    working = max(model.input_size, model.output_size)
    path = write_image(tmp_path / "face.png", gradient_face_80)
    framing = Framing(coverage=87.5)

    faceset = load_faceset(tmp_path, "a", 1, working, framing)
    training_input = preview_batch(faceset, 1, model.input_size, model.output_size).inputs[0]
    swap_input = Swapper(model).model_inputs([framed_image(path, framing, working)])[0]

    np.testing.assert_allclose(swap_input.numpy(), training_input.numpy(), atol=1e-6)
    uncropped = Swapper(model).model_inputs([framed_image(path, Framing(), working)])[0]
    assert not np.allclose(uncropped.numpy(), training_input.numpy(), atol=1e-3)
