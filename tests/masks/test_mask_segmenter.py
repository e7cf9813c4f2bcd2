"""The occlusion segmenter: network, occluders, storage, training, apply, labels."""
from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from phaze.cli.main import main
from phaze.errors import DataError, ModelDirError
from phaze.io.images import read_image, write_image
from phaze.data.sources import labels
from phaze.masks.dataset import MaskFace, load_mask_faces, make_batch
from phaze.masks.network import Segmenter, SegmenterConfig, parameter_count
from phaze.masks.occluders import HELD_OUT_KINDS, TRAIN_KINDS, OccluderConfig, occlude
from phaze.masks.predict import MaskPredictor, apply_to_folder
from phaze.masks.storage import OPTIONS_FILE, load_mask_model, read_mask_info
from phaze.masks.training import MaskTrainConfig, train_segmenter

from mask_helpers import TINY


def test_default_network_has_one_to_three_million_parameters_and_keeps_the_size():
    model = Segmenter(SegmenterConfig()).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, 128, 128))
    assert out.shape == (1, 1, 128, 128)
    assert 1_000_000 <= parameter_count(model) <= 3_000_000


def test_held_out_occluder_kinds_are_not_trained_on():
    assert not set(HELD_OUT_KINDS) & set(TRAIN_KINDS)


@pytest.mark.parametrize("kind", TRAIN_KINDS + HELD_OUT_KINDS)
def test_an_occluder_never_covers_more_than_the_allowed_share(kind):
    rng = np.random.default_rng(3)
    face = np.zeros((64, 64), np.float32)
    face[12:52, 16:48] = 1.0
    image = np.full((64, 64, 3), 128, np.uint8)
    config = OccluderConfig(kinds=(kind,), probability=1.0, max_coverage=0.4)
    for _ in range(10):
        out, alpha = occlude(image, face, [], rng, config)
        assert out.shape == image.shape and alpha.shape == face.shape
        assert ((alpha > 0.5) & (face > 0.5)).sum() <= 0.4 * face.sum() + 1


def test_the_target_is_the_face_minus_the_pasted_occluder():
    rng = np.random.default_rng(0)
    target = np.zeros((32, 32), np.float32)
    target[4:28, 4:28] = 1
    face = MaskFace(np.full((32, 32, 3), 100, np.uint8), target, None, False)
    images, targets, weights = make_batch([face], [0] * 8, rng,
                                          OccluderConfig(probability=1.0), [], 4.0,
                                          augment=False)
    assert targets.sum() < 8 * target.sum()          # occluders removed part of the face
    assert np.all(targets <= target)                 # never more than the face
    assert np.all(weights == 1.0)


def test_a_saved_model_predicts_the_same_after_loading(tiny_model):
    model, info = load_mask_model(tiny_model)
    assert info.network == TINY
    files = sorted(p.name for p in tiny_model.iterdir())
    assert files == [OPTIONS_FILE, "weights.safetensors"]  # no pickle, no temp files left
    again, _ = load_mask_model(tiny_model)
    batch = torch.rand(2, 3, 32, 32)
    with torch.no_grad():
        torch.testing.assert_close(model(batch), again(batch))


def test_a_mask_model_of_another_format_version_is_one_clear_line(tiny_model, capsys,
                                                                 astronaut_faces):
    options = json.loads((tiny_model / OPTIONS_FILE).read_text())
    (tiny_model / OPTIONS_FILE).write_text(json.dumps(dict(options, format_version=99)))
    with pytest.raises(ModelDirError, match="format version 99.*reads version 1"):
        read_mask_info(tiny_model)
    code = main(["mask", "apply", "--model-dir", str(tiny_model), "--faces",
                 str(astronaut_faces)])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in error and "format version 99" in error
    assert not (astronaut_faces / "masks").exists() or not any(
        (astronaut_faces / "masks").glob("*.png"))


def test_training_writes_a_model_and_continues_from_it(astronaut_faces, tmp_path):
    faces = load_mask_faces([astronaut_faces], TINY.size_px)
    assert len(faces) == 3 and all(face.target.max() == 1.0 for face in faces)
    config = MaskTrainConfig(steps=2, batch_size=2)
    first = train_segmenter(faces, tmp_path / "m", TINY, config)
    second = train_segmenter(faces, tmp_path / "m", TINY, config)
    assert (first.trained_steps, second.trained_steps) == (2, 4)


def test_faces_without_landmarks_cannot_self_supervise(tmp_path):
    folder = tmp_path / "crops"
    folder.mkdir()
    write_image(folder / "plain.png", np.zeros((40, 40, 3), np.uint8))
    with pytest.raises(DataError, match="no face with landmarks.*hand-drawn mask"):
        load_mask_faces([folder], 32)


def test_excluded_faces_are_not_trained_on_and_drawn_masks_are_labels(astronaut_faces):
    labels.set_excluded(astronaut_faces, "astronaut_1_0.png", True)
    labels.save_hand_mask(astronaut_faces, "astronaut_2_0", np.ones((128, 128), np.float32))
    faces = load_mask_faces([astronaut_faces], 32)
    assert len(faces) == 2
    assert [face.hand_drawn for face in faces] == [False, True]
    assert faces[1].target.min() == 1.0  # the drawn mask, not the landmark hull


def test_apply_writes_a_mask_per_face_and_keeps_hand_drawn_ones(astronaut_faces, tiny_model):
    drawn = np.zeros((128, 128), np.uint8)
    drawn[10:20, 10:20] = 255
    labels.save_hand_mask(astronaut_faces, "astronaut_0_0", drawn)
    report = apply_to_folder(tiny_model, astronaut_faces)
    assert (report.written, report.kept_hand_drawn) == (2, 1)
    np.testing.assert_array_equal(read_image(labels.mask_path(astronaut_faces, "astronaut_0_0"),
                                             grayscale=True), drawn)
    predicted = read_image(labels.mask_path(astronaut_faces, "astronaut_1_0"), grayscale=True)
    assert predicted.shape == (128, 128)
    assert not list((astronaut_faces / "masks").glob(".*.tmp"))


def test_a_hand_drawn_mask_saved_during_apply_is_not_overwritten(astronaut_faces, tiny_model,
                                                                  monkeypatch):
    """The editor saves while `mask apply` is predicting: the drawn mask wins."""
    drawn = np.full((128, 128), 255, np.uint8)
    predict = MaskPredictor.predict

    def save_then_predict(self, crops):
        labels.save_hand_mask(astronaut_faces, "astronaut_1_0", drawn)
        return predict(self, crops)

    monkeypatch.setattr(MaskPredictor, "predict", save_then_predict)
    report = apply_to_folder(tiny_model, astronaut_faces)
    assert (report.written, report.kept_hand_drawn) == (2, 1)
    np.testing.assert_array_equal(read_image(labels.mask_path(astronaut_faces, "astronaut_1_0"),
                                             grayscale=True), drawn)


def test_cli_train_then_apply(astronaut_faces, tmp_path, capsys):
    model_dir = tmp_path / "cli_model"
    assert main(["mask", "train", "--faces", str(astronaut_faces), "--model-dir",
                 str(model_dir), "--steps", "1", "--batch-size", "2", "--size", "64",
                 "--no-progress"]) == 0
    assert main(["mask", "apply", "--model-dir", str(model_dir), "--faces",
                 str(astronaut_faces)]) == 0
    assert "3 masks written" in capsys.readouterr().out
    assert len(list((astronaut_faces / "masks").glob("*.png"))) == 3


def test_train_mask_type_occlusion_uses_the_segmenters_masks(astronaut_faces, tiny_model):
    from phaze.data.faceset import load_faceset

    apply_to_folder(tiny_model, astronaut_faces)
    faceset = load_faceset(astronaut_faces, "a", 1, 32, mask_type="occlusion")
    assert {faceset.face(i).mask_source for i in range(len(faceset))} == {"occlusion"}


def test_phaze_train_skips_excluded_faces(astronaut_faces):
    from phaze.data.faceset import load_faceset

    labels.set_excluded(astronaut_faces, "astronaut_0_0.png", True)
    faceset = load_faceset(astronaut_faces, "a", 1, 32)
    assert faceset.names == ("astronaut_1_0.png", "astronaut_2_0.png")


def test_the_trainer_predicts_masks_for_its_face_folders_before_loading(astronaut_faces,
                                                                        tiny_model):
    from types import SimpleNamespace

    from phaze.data.settings import MaskWeighting
    from phaze.train.loop import Trainer

    masks = MaskWeighting(mask_type="occlusion", mask_model=str(tiny_model))
    Trainer._apply_mask_model(SimpleNamespace(config=SimpleNamespace(masks=masks)),
                              astronaut_faces, astronaut_faces)
    assert len(list((astronaut_faces / "masks").glob("*.png"))) == 3


def test_mask_train_on_a_folder_without_landmarks_is_one_line(tmp_path, capsys):
    folder = tmp_path / "crops"
    folder.mkdir()
    write_image(folder / "plain.png", np.zeros((40, 40, 3), np.uint8))
    code = main(["mask", "train", "--faces", str(folder), "--model-dir", str(tmp_path / "m"),
                 "--no-progress"])
    error = capsys.readouterr().err.strip()
    assert code == 2 and "\n" not in error and "no face with landmarks" in error
    assert not (tmp_path / "m").exists()
