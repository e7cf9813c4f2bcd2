"""Training end to end on synthetic faces: loss falls, files appear, NaNs are contained."""
from __future__ import annotations

import logging
import math
from pathlib import Path

import cv2
import pytest
import torch

from phaze.storage.checkpoint import load_checkpoint
from phaze.config.parse import options_from_mapping
from phaze.errors import DataError
from phaze.train import losses as losses_module
from phaze.train.checkpointing import nonfinite_tensors
from phaze.train.loop import Trainer, train
from phaze.train.preview import MIN_FACE_PX, ROWS


def _mean(values: list[float]) -> float:
    return sum(values) / len(values)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, synthetic_faces, train_tiny, fast_trainer):
    """One short run shared by the tests below: 40 steps, previews, saves, TensorBoard."""
    model_dir = tmp_path_factory.mktemp("trained") / "model"
    trainer = fast_trainer(iterations=40, save_interval=20, preview_interval=20,
                           log_interval=5, workers=1, tensorboard=True)
    result = train(*synthetic_faces, model_dir, options_from_mapping(train_tiny), trainer)
    return model_dir, result


def test_training_lowers_the_loss_on_both_sides(trained):
    _, result = trained

    first, last = result.history[:2], result.history[-2:]

    for side in ("a", "b"):
        before = _mean([p.losses[side] for p in first])
        after = _mean([p.losses[side] for p in last])
        assert after < 0.9 * before, f"side {side}: loss {before:.4f} → {after:.4f}"


def test_training_reports_progress_with_speed_and_learning_rate(trained):
    _, result = trained

    assert [p.iteration for p in result.history] == list(range(5, 41, 5))
    assert all(p.egs_per_sec > 0 and p.learning_rate == pytest.approx(1e-3)
               for p in result.history)
    assert {"a", "b", "a_ssim", "a_mse", "b_ssim", "b_mse"} <= set(result.history[0].losses)


def test_training_writes_a_checkpoint_at_the_last_iteration(trained):
    model_dir, result = trained

    checkpoint = load_checkpoint(model_dir)

    assert result.stopped == "completed" and result.iteration == 40
    assert checkpoint.state.iteration == 40
    assert checkpoint.optimizer is not None
    assert [entry["iteration"] for entry in checkpoint.state.loss_history] == [20.0, 40.0]
    assert checkpoint.state.trainer["batch_size"] == 4


def test_training_writes_a_labelled_preview_grid(trained):
    model_dir, _ = trained

    image = cv2.imread(str(model_dir / "preview.png"))
    dated = cv2.imread(str(model_dir / "previews" / "preview_00000040.png"))

    assert image is not None and dated is not None
    face_px = MIN_FACE_PX  # 64 px faces are upscaled to at least this
    height, width = image.shape[:2]
    assert height >= len(ROWS) * face_px
    assert width >= 4 * face_px
    assert (model_dir / "previews" / "preview_00000020.png").is_file()


def test_training_writes_tensorboard_events(trained):
    model_dir, _ = trained

    events = list((model_dir / "logs").glob("events.out.tfevents.*"))

    assert events and events[0].stat().st_size > 0


def test_preview_shows_rgb_faces_in_the_right_rows(trained):
    """Row A holds the original faces: synthetic person A has warm, blond (R > B) hair."""
    model_dir, _ = trained
    rgb = cv2.cvtColor(cv2.imread(str(model_dir / "preview.png")), cv2.COLOR_BGR2RGB)

    from phaze.train.preview import HEADER_PX, LABEL_WIDTH_PX
    row_a = rgb[HEADER_PX:HEADER_PX + MIN_FACE_PX, LABEL_WIDTH_PX:].astype(float)

    assert row_a[..., 0].mean() > row_a[..., 2].mean()


# --- masks ------------------------------------------------------------------------------------
def test_learn_mask_without_any_masks_is_a_data_error(tmp_path, train_tiny, fast_trainer):
    from phaze.data.synthetic import render_faces

    folders = []
    for side in ("a", "b"):
        folder = tmp_path / side
        folder.mkdir()
        faces, _ = render_faces(side, 4, 64, seed=0)
        for index, face in enumerate(faces):
            cv2.imwrite(str(folder / f"{index}.png"), cv2.cvtColor(face, cv2.COLOR_RGB2BGR))
        folders.append(folder)
    options = options_from_mapping(dict(train_tiny, learn_mask=True))

    with pytest.raises(DataError, match="learn_mask"):
        train(*folders, tmp_path / "model", options, fast_trainer())
    assert not (tmp_path / "model" / "phaze.json").exists()  # nothing half-made


def test_learn_mask_trains_the_mask_output(tmp_path, synthetic_faces, train_tiny, fast_trainer):
    options = options_from_mapping(dict(train_tiny, learn_mask=True))

    result = train(*synthetic_faces, tmp_path / "model", options, fast_trainer(iterations=2))

    assert "a_mask" in result.history[-1].losses and "b_mask" in result.history[-1].losses


def test_empty_face_folder_is_a_data_error(tmp_path, synthetic_faces, train_tiny, fast_trainer):
    empty = tmp_path / "empty"
    empty.mkdir()

    with pytest.raises(DataError, match="empty"):
        train(synthetic_faces[0], empty, tmp_path / "model",
              options_from_mapping(train_tiny), fast_trainer())


# --- NaN protection ---------------------------------------------------------------------------
def _poison_loss(monkeypatch, bad_calls: set[int]) -> None:
    """Make FaceLoss return NaN on the given calls (two calls per step: A, then B)."""
    original = losses_module.FaceLoss.forward
    calls = {"n": 0}

    def forward(self, *args, **kwargs):
        parts = original(self, *args, **kwargs)
        calls["n"] += 1
        if calls["n"] in bad_calls:
            parts = losses_module.LossParts(parts.total * math.nan, parts.parts)
        return parts

    monkeypatch.setattr(losses_module.FaceLoss, "forward", forward)


def test_a_nan_loss_skips_the_step_with_a_warning(tmp_path, synthetic_faces, train_tiny,
                                                   fast_trainer, monkeypatch, caplog):
    _poison_loss(monkeypatch, bad_calls={5})  # side A of the third step
    caplog.set_level(logging.WARNING)

    result = train(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
                   fast_trainer(iterations=4))

    assert result.stopped == "completed"
    assert result.iteration == 4 and result.steps == 4  # the skipped step was not counted
    assert any("not finite" in r.message and "skipped" in r.message for r in caplog.records)
    saved = load_checkpoint(tmp_path / "model")
    assert all(torch.isfinite(t).all() for t in saved.weights.values())


def test_consecutive_nan_losses_stop_training_cleanly(tmp_path, synthetic_faces, train_tiny,
                                                      fast_trainer, monkeypatch):
    _poison_loss(monkeypatch, bad_calls=set(range(5, 100)))  # every step after the second
    trainer = fast_trainer(iterations=50, save_interval=1)
    trainer = trainer.replace(nan_protection=type(trainer.nan_protection)(max_consecutive=3))

    result = train(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
                   trainer)

    assert result.stopped == "non_finite"
    assert result.iteration == 2
    saved = load_checkpoint(tmp_path / "model")
    assert saved.state.iteration == 2
    assert all(torch.isfinite(t).all() for t in saved.weights.values())


def test_non_finite_weights_are_never_saved(tmp_path, synthetic_faces, train_tiny,
                                            fast_trainer, caplog):
    trainer = Trainer(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
                      fast_trainer(iterations=2, save_interval=1, log_interval=1))

    def poison(progress):
        # Iteration 1 is saved; then one weight goes bad and the next save must refuse.
        if progress.iteration == 2:
            with torch.no_grad():
                weight = next(trainer.model.parameters())  # may be channels-last: no view
                weight[(0,) * weight.dim()] = math.inf

    caplog.set_level(logging.ERROR)

    trainer.run(on_progress=poison)

    assert nonfinite_tensors(trainer.model.state_dict(), trainer.parts.optimizer.state_dict())
    saved = load_checkpoint(tmp_path / "model")
    assert saved.state.iteration == 1
    assert all(torch.isfinite(t).all() for t in saved.weights.values())
    assert any("NOT saving" in r.message for r in caplog.records)


def test_on_progress_returning_false_stops_and_saves(tmp_path, synthetic_faces, train_tiny,
                                                     fast_trainer):
    result = train(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
                   fast_trainer(iterations=None), on_progress=lambda progress: False)

    assert result.stopped == "callback" and result.iteration == 2
    assert load_checkpoint(tmp_path / "model").state.iteration == 2


def test_ctrl_c_saves_and_returns(tmp_path, synthetic_faces, train_tiny, fast_trainer):
    def interrupt(progress):
        raise KeyboardInterrupt

    result = train(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
                   fast_trainer(iterations=None), on_progress=interrupt)

    assert result.stopped == "interrupted"
    assert load_checkpoint(tmp_path / "model").state.iteration == 2
    assert Path(tmp_path / "model" / "preview.png").is_file()


def test_snapshots_are_taken_every_snapshot_interval(tmp_path, synthetic_faces, train_tiny,
                                                     fast_trainer):
    train(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
          fast_trainer(iterations=4, save_interval=2, snapshot_interval=4))

    snapshots = sorted(p.name for p in (tmp_path / "model" / "snapshots").iterdir())
    assert snapshots == ["00000004"]


@pytest.mark.parametrize("mode", [
    "bf16",
    # float16 matmuls on a CPU are emulated and take ~10 s per step even for this model.
    pytest.param("fp16", marks=pytest.mark.skipif(not torch.cuda.is_available(),
                                                  reason="float16 needs a GPU to be fast")),
])
def test_mixed_precision_trains_with_finite_weights(tmp_path, synthetic_faces, train_tiny,
                                                    fast_trainer, mode):
    result = train(*synthetic_faces, tmp_path / "model", options_from_mapping(train_tiny),
                   fast_trainer(iterations=2, mixed_precision=mode))

    assert result.stopped == "completed" and result.iteration == 2
    weights = load_checkpoint(tmp_path / "model").weights
    assert all(torch.isfinite(t).all() for t in weights.values())
