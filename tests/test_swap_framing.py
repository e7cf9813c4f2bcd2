"""A model trained at coverage 87.5 % swaps faces framed exactly like its training crops."""
from __future__ import annotations

import numpy as np
import torch

from phaze.checkpoint import TrainingState, save_checkpoint, write_marker
from phaze.config.presets import resolve_options
from phaze.data.augment import prepare_plain
from phaze.model.phaze_a import build_model
from phaze.faces.framing import Framing
from phaze.model_framing import read_model_framing, write_model_framing
from phaze.swap import Swapper


def test_swap_input_equals_the_training_crop_at_coverage_87_5(tmp_path, train_tiny,
                                                              gradient_face_80) -> None:
    torch.manual_seed(0)
    options = resolve_options(overrides=train_tiny)
    model = build_model(options)
    write_marker(tmp_path, options)
    write_model_framing(tmp_path, Framing(coverage=87.5))
    save_checkpoint(tmp_path, model.state_dict(), TrainingState())
    coverage = read_model_framing(tmp_path).coverage

    swap_input = Swapper(model, "a-to-b", coverage=coverage).model_inputs([gradient_face_80])[0]
    training_input = prepare_plain(gradient_face_80, None, model.input_size,
                                   model.output_size, coverage)[0]

    np.testing.assert_allclose(swap_input.numpy(), training_input, atol=1e-6)
    uncropped = Swapper(model, "a-to-b").model_inputs([gradient_face_80])[0]
    assert not np.allclose(uncropped.numpy(), training_input, atol=1e-3)
