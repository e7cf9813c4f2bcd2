"""Acceptance: faceswap face PNGs cut from the astronaut photo (and rotated copies of it) train a
tiny 64 px model through the real loader with extended masks and eye ×3 / mouth ×2 weighting."""
from __future__ import annotations

from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from phaze.config.presets import resolve_options
from phaze.data.settings import AugmentConfig
from phaze.data.faceset import load_faceset
from phaze.data.loader import Weighting, make_training_batches, preview_batch
from phaze.data.settings import MaskWeighting
from phaze.data.loss_weights import loss_weight_map, prepare_face_mask
from phaze.faces.aligned import AlignedFace
from phaze.faces.framing import Framing
from phaze.faces.geometry import subcrop_face
from phaze.faces.masks import extended_mask, eye_mask, mouth_mask
from phaze.formats.faceswap_png import face_metadata, write_face_png
from phaze.train.losses import FaceLoss
from phaze.train.loss_config import LossConfig, LossSpec

HEAD_PX = 128
SIZE = 64
NOTHING = AugmentConfig(rotation_range=0, zoom_amount=0, shift_range=0, warp=False, color=False,
                        flip=False)


def _write_face_set(folder: Path, landmarks: np.ndarray, angles=(0, -6, 6)) -> list[AlignedFace]:
    """Head-centred faceswap PNGs of the astronaut, the frame rotated by each angle."""
    folder.mkdir(parents=True, exist_ok=True)
    frame = skimage.data.astronaut()
    faces = []
    for index, angle in enumerate(angles):
        matrix = cv2.getRotationMatrix2D((220.0, 130.0), angle, 1.0)
        rotated = cv2.warpAffine(frame, matrix, frame.shape[1::-1])
        points = landmarks @ matrix[:, :2].T + matrix[:, 2]
        face = AlignedFace(f"astronaut_{index}.png", 0, 175, 76, 90, 90, points)
        write_face_png(folder / f"astronaut_{index}_0.png", face.warp(rotated, HEAD_PX, "head"),
                       face_metadata(face, face.frame, rotated.shape[:2]))
        faces.append(face)
    return faces


@pytest.fixture
def astronaut_faces(tmp_path: Path, astronaut_landmarks) -> tuple[Path, list[AlignedFace]]:
    return tmp_path / "a", _write_face_set(tmp_path / "a", astronaut_landmarks)


def test_faces_are_sub_cropped_at_the_model_framing_with_their_landmarks(astronaut_faces):
    folder, aligned = astronaut_faces
    framing = Framing("face", 87.5)
    faceset = load_faceset(folder, "a", 1, SIZE, framing)
    head = cv2.cvtColor(cv2.imread(str(folder / "astronaut_0_0.png")), cv2.COLOR_BGR2RGB)
    expected = subcrop_face(head, aligned[0].pose_offsets, SIZE, "face", 0.875)
    np.testing.assert_array_equal(faceset.face(0).image, expected)
    # The landmarks of the sub-crop are those of a face aligned directly at that framing, but
    # for the sub-crop box's whole-pixel corner and even side (< 1 px at 64 px).
    direct = aligned[0].aligned_landmarks(SIZE, "face", 0.875)
    np.testing.assert_allclose(faceset.face(0).landmarks, direct, atol=1.0)


def test_loss_weights_of_a_batch_are_the_mask_construction(astronaut_faces):
    folder, _ = astronaut_faces
    faceset = load_faceset(folder, "a", 2, SIZE, Framing("face"))
    (batch,) = islice(make_training_batches(faceset, faceset, SIZE, SIZE, 3, NOTHING,
                                            workers=0), 1)
    face = faceset.face(int(_row_of(batch["a"].targets[0], faceset)))
    config = MaskWeighting()
    expected = loss_weight_map(prepare_face_mask(extended_mask(face.landmarks, SIZE), config),
                               eye_mask(face.landmarks, SIZE), mouth_mask(face.landmarks, SIZE),
                               config)
    np.testing.assert_allclose(batch["a"].loss_weights[0, 0].numpy(), expected, atol=0.02)
    assert float(batch["a"].loss_weights.amax()) == pytest.approx(4.0, abs=0.05)  # face + eyes
    assert batch["a"].loss_weights[:, 0, 0, 0].eq(0).all()  # the corner is outside the face


def _row_of(target: torch.Tensor, faceset) -> int:
    """Which face of the set an unaugmented target is."""
    image = np.rint(target.permute(1, 2, 0).numpy() * 255)
    errors = [np.abs(image - faceset.face(i).image).mean() for i in range(len(faceset))]
    return int(np.argmin(errors))


def _mouth_error_loss(faceset, eye: float, mouth: float) -> float:
    """mae loss of a prediction that differs from the target only in the mouth's core."""
    weighting = Weighting(MaskWeighting(eye_multiplier=eye, mouth_multiplier=mouth))
    batch = preview_batch(faceset, 1, SIZE, SIZE, weighting)
    face = faceset.face(0)
    core = (mouth_mask(face.landmarks, SIZE) > 0.999) & \
        (prepare_face_mask(extended_mask(face.landmarks, SIZE), MaskWeighting()) > 0.999)
    assert core.sum() > 10
    prediction = batch.targets.clone()
    prediction[..., torch.from_numpy(core)] += 0.1
    loss = FaceLoss(LossConfig(functions=(LossSpec("mae"),)))
    return loss.of_batch(prediction, batch).total.item()


def test_an_error_inside_the_mouth_scores_three_times_the_loss_of_multipliers_one(
        astronaut_faces):
    faceset = load_faceset(astronaut_faces[0], "a", 1, SIZE)
    weighted = _mouth_error_loss(faceset, 3.0, 2.0)
    plain = _mouth_error_loss(faceset, 1.0, 1.0)
    assert plain > 0 and weighted == pytest.approx(3.0 * plain, rel=1e-4)


def test_masked_out_pixels_contribute_nothing(astronaut_faces):
    faceset = load_faceset(astronaut_faces[0], "a", 1, SIZE)
    batch = preview_batch(faceset, 1, SIZE, SIZE, Weighting())
    prediction = batch.targets.clone()
    outside = batch.loss_weights[0, 0] == 0
    prediction[..., outside] = 1.0 - prediction[..., outside]
    loss = FaceLoss(LossConfig(functions=(LossSpec("mae"),)))
    assert outside.sum() > 100 and loss.of_batch(prediction, batch).total.item() == 0.0


def test_the_astronaut_set_trains_a_tiny_model(tmp_path, astronaut_faces, astronaut_landmarks,
                                               train_tiny):
    from phaze.train.config import TrainerConfig
    from phaze.train.loop import train

    faces_b = tmp_path / "b"
    _write_face_set(faces_b, astronaut_landmarks, angles=(3, -3))
    trainer = TrainerConfig(batch_size=2, iterations=3, save_interval=3, preview_interval=3,
                            log_interval=1, workers=0, threads=1, tensorboard=False,
                            device="cpu")
    result = train(astronaut_faces[0], faces_b, tmp_path / "model",
                   resolve_options(overrides=train_tiny), trainer,
                   framing=Framing("face", 87.5))
    assert result.steps == 3 and result.stopped == "completed"
    losses = [report.losses["a"] for report in result.history]
    assert all(np.isfinite(losses)) and losses[0] > 0
    assert (tmp_path / "model" / "preview.png").is_file()


def test_swap_frames_a_face_exactly_as_training_cropped_it(astronaut_faces, train_tiny):
    from phaze.inference.swapper import Swapper
    from phaze.model.phaze_a import build_model
    from phaze.inference.folder_swap import framed_image

    folder, _ = astronaut_faces
    framing = Framing("face", 87.5)
    model = build_model(resolve_options(overrides=train_tiny))
    working = max(model.input_size, model.output_size)
    faceset = load_faceset(folder, "a", 1, working, framing)
    training = preview_batch(faceset, len(faceset), model.input_size, model.output_size)
    paths = sorted(folder.glob("*.png"))
    swap_inputs = Swapper(model).model_inputs([framed_image(p, framing, working) for p in paths])
    torch.testing.assert_close(swap_inputs, training.inputs, rtol=0, atol=0)


def test_previews_write_the_swap_quality_score_to_tensorboard(tmp_path, astronaut_faces,
                                                              astronaut_landmarks, train_tiny):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    from phaze.train.config import TrainerConfig
    from phaze.train.loop import train

    faces_b = tmp_path / "b"
    _write_face_set(faces_b, astronaut_landmarks, angles=(3, -3))
    trainer = TrainerConfig(batch_size=2, iterations=2, save_interval=2, preview_interval=2,
                            log_interval=1, workers=0, threads=1, device="cpu")
    train(astronaut_faces[0], faces_b, tmp_path / "model", resolve_options(overrides=train_tiny),
          trainer)
    events = EventAccumulator(str(tmp_path / "model" / "logs"))
    events.Reload()
    tags = set(events.Tags()["scalars"])
    assert {"score/ssim_a", "score/ssim_b"} <= tags
    (ssim,) = events.Scalars("score/ssim_a")
    assert ssim.step == 2 and -1.0 <= ssim.value <= 1.0
