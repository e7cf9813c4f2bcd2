"""Loading sub-models from another model, and freezing sub-models while training."""
from __future__ import annotations

import logging

import pytest
import torch

from phaze.storage.checkpoint import load_checkpoint
from phaze.config.parse import options_from_mapping
from phaze.errors import WeightsError
from phaze.train.loop import Trainer, train


@pytest.fixture(scope="module")
def source_model(trained_split_model):
    """Model 1, the one sub-models are loaded from."""
    return trained_split_model


def _submodel_weights(weights: dict, name: str) -> dict:
    return {k: v for k, v in weights.items() if k.startswith(name + ".")}


def _snapshot(module: torch.nn.Module) -> dict:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _equal(left: dict, right: dict) -> bool:
    return left.keys() == right.keys() and all(torch.equal(left[k], right[k]) for k in left)


# --- load weights -----------------------------------------------------------------------------
def test_loaded_sub_models_equal_the_source(tmp_path, synthetic_faces, source_model,
                                            split_tiny, fast_trainer):
    source = load_checkpoint(source_model).weights

    trainer = Trainer(*synthetic_faces, tmp_path / "model", options_from_mapping(split_tiny),
                      fast_trainer(), load_weights=source_model,
                      load_layers=["encoder", "fc_b"])

    weights = trainer.model.state_dict()
    for name in ("encoder", "fc_b"):
        assert _equal(_submodel_weights(weights, name), _submodel_weights(source, name))
    assert not _equal(_submodel_weights(weights, "fc_a"), _submodel_weights(source, "fc_a"))
    assert trainer.session.transfer.loaded_names == ["encoder", "fc_b"]


def test_a_sub_model_with_a_shape_mismatch_is_not_loaded_at_all(
        tmp_path, synthetic_faces, source_model, split_tiny, fast_trainer, caplog):
    # A wider encoder: every encoder conv differs, the bottleneck input too; fc_b still fits.
    options = options_from_mapping(dict(split_tiny, fs_original_min_filters=32))
    caplog.set_level(logging.WARNING)

    trainer = Trainer(*synthetic_faces, tmp_path / "model", options, fast_trainer(),
                      load_weights=source_model, load_layers=["encoder", "fc_b"])

    report = {s.name: s for s in trainer.session.transfer.submodels}
    assert report["encoder"].loaded == [] and report["encoder"].mismatches
    source = load_checkpoint(source_model).weights
    encoder = _submodel_weights(trainer.model.state_dict(), "encoder")
    assert not any(torch.equal(encoder[k], source[k]) for k in encoder
                   if k in source and encoder[k].shape == source[k].shape
                   and encoder[k].ndim > 1)  # not even the tensors that happen to fit
    assert report["fc_b"].loaded
    assert any("'encoder' NOT loaded" in r.message for r in caplog.records)
    assert any("shape" in r.message for r in caplog.records)  # per-tensor detail


def test_loading_nothing_is_an_error(tmp_path, synthetic_faces, source_model, split_tiny,
                                     fast_trainer):
    options = options_from_mapping(dict(split_tiny, split_decoders=False))

    with pytest.raises(WeightsError, match="nothing could be loaded"):
        Trainer(*synthetic_faces, tmp_path / "model", options, fast_trainer(),
                load_weights=source_model, load_layers=["decoder_a"])


def test_load_weights_into_an_existing_model_is_ignored_with_a_warning(
        tmp_path, synthetic_faces, source_model, split_tiny, fast_trainer, caplog):
    model_dir = tmp_path / "model"
    train(*synthetic_faces, model_dir, options_from_mapping(split_tiny),
          fast_trainer(iterations=1))
    before = load_checkpoint(model_dir).weights
    caplog.set_level(logging.WARNING)

    trainer = Trainer(*synthetic_faces, model_dir, trainer=fast_trainer(),
                      load_weights=source_model, load_layers=["encoder"])

    assert trainer.session.transfer is None
    assert _equal(trainer.model.state_dict(), before)
    assert any("--load-weights is ignored" in r.message for r in caplog.records)


# --- freezing ---------------------------------------------------------------------------------
def test_frozen_sub_models_do_not_change_while_others_do(tmp_path, synthetic_faces,
                                                         split_tiny, fast_trainer):
    trainer = Trainer(*synthetic_faces, tmp_path / "model", options_from_mapping(split_tiny),
                      fast_trainer(iterations=3), freeze_layers=["encoder", "fc_a"])
    before = {name: _snapshot(module) for name, module in trainer.model.submodels().items()}
    optimised = {id(p) for g in trainer.parts.optimizer.param_groups for p in g["params"]}

    trainer.run()

    after = {name: _snapshot(module) for name, module in trainer.model.submodels().items()}
    assert _equal(before["encoder"], after["encoder"])
    assert _equal(before["fc_a"], after["fc_a"])
    for name in ("fc_b", "decoder_a", "decoder_b"):
        assert not _equal(before[name], after[name]), name
    assert not any(id(p) in optimised for p in trainer.model.encoder.parameters())


def test_a_later_run_without_the_flag_unfreezes(tmp_path, synthetic_faces, split_tiny,
                                                fast_trainer):
    model_dir = tmp_path / "model"
    train(*synthetic_faces, model_dir, options_from_mapping(split_tiny),
          fast_trainer(iterations=2), freeze_layers=["encoder"])
    frozen_encoder = _submodel_weights(load_checkpoint(model_dir).weights, "encoder")

    trainer = Trainer(*synthetic_faces, model_dir, trainer=fast_trainer(iterations=2))
    trainer.run()

    assert all(p.requires_grad for p in trainer.model.parameters())
    encoder = _submodel_weights(load_checkpoint(model_dir).weights, "encoder")
    assert not _equal(encoder, frozen_encoder)


def test_frozen_batch_norms_run_in_eval_mode(tmp_path, synthetic_faces, split_tiny,
                                             fast_trainer):
    options = options_from_mapping(dict(split_tiny, dec_norm="batch"))
    trainer = Trainer(*synthetic_faces, tmp_path / "model", options,
                      fast_trainer(iterations=2), freeze_layers=["decoder_a"])
    norms = [m for m in trainer.model.decoder_a.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    statistics = [m.running_mean.clone() for m in norms]

    trainer.run()

    assert norms and not any(m.training for m in norms)
    assert all(torch.equal(m.running_mean, s) for m, s in zip(norms, statistics))
    other = [m for m in trainer.model.decoder_b.modules()
             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert all(m.training for m in other)


def test_freezing_a_missing_sub_model_warns(tmp_path, synthetic_faces, train_tiny,
                                            fast_trainer, caplog):
    caplog.set_level(logging.WARNING)

    trainer = Trainer(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
                      fast_trainer(), freeze_layers=["fc_a", "encoder"])

    assert trainer.session.frozen == ("encoder",)
    assert any("fc_a" in r.message and "not in this model" in r.message
               for r in caplog.records)
