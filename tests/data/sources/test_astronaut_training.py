"""Acceptance (interim): a DFL face set extracted from the astronaut photo, with dlib landmarks,
trains a tiny 64 px model a few steps under the face mask and eye ×3 / mouth ×2 weighting.

The face mask is the filled hull of the 68 landmarks, built here; the `extended` landmark mask
of phaze.faces replaces it once that lands.
"""
from __future__ import annotations

import pickle
from pathlib import Path

import cv2
import numpy as np
import pytest
import skimage.data
import torch

from phaze.config.presets import resolve_options
from phaze.data.augment import AugmentConfig, augment_pair
from phaze.data.loss_weights import (MaskWeighting, loss_weight_map, prepare_area_mask,
                                     prepare_face_mask)
from phaze.data.sources import scan_folder
from phaze.model.phaze_a import build_model
from phaze.train.losses import mae_map
from phaze.train.weighted_loss import weighted_mean

SIZE = 64
CROP = (46, 196, 145, 295)  # rows, cols of the astronaut's face with a margin (150 px)


def _write_face_set(folder: Path, frame_landmarks: np.ndarray) -> None:
    """Two DFL-style JPGs (the face and its mirror) with landmarks in face px."""
    top, bottom, left, right = CROP
    face = cv2.resize(skimage.data.astronaut()[top:bottom, left:right], (SIZE, SIZE),
                      interpolation=cv2.INTER_AREA)
    landmarks = ((frame_landmarks - [left, top]) * SIZE / (right - left)).astype(np.float32)
    mirror = landmarks.copy()
    mirror[:, 0] = SIZE - 1 - mirror[:, 0]
    for index, (image, points) in enumerate(((face, landmarks), (face[:, ::-1], mirror))):
        jpeg = cv2.imencode(".jpg", cv2.cvtColor(np.ascontiguousarray(image),
                                                 cv2.COLOR_RGB2BGR))[1].tobytes()
        payload = pickle.dumps({"face_type": "whole_face", "landmarks": points})
        segment = b"\xff\xef" + (len(payload) + 2).to_bytes(2, "big") + payload
        (folder / f"astronaut_{index}.jpg").write_bytes(jpeg[:2] + segment + jpeg[2:])


def _hull(points: np.ndarray) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), np.uint8)
    cv2.fillConvexPoly(mask, cv2.convexHull(np.round(points).astype(np.int32)), 255)
    return mask


def _example(path: Path, landmarks: np.ndarray, seed: int, config: MaskWeighting,
             input_px: int):
    """Augmented input/target and the weight map; the masks follow the same geometry."""
    face = cv2.cvtColor(cv2.imread(str(path)), cv2.COLOR_BGR2RGB)
    augment = AugmentConfig(warp=False)
    masks = [_hull(landmarks), _hull(landmarks[36:42]) | _hull(landmarks[42:48]),
             _hull(landmarks[48:60])]
    outputs = [augment_pair(face, mask, input_px, SIZE, augment, np.random.default_rng(seed))
               for mask in masks]
    warped, target = outputs[0][0], outputs[0][1]
    face_mask, eyes, mouth = [(out[2][0] * 255).astype(np.uint8) for out in outputs]
    weights = loss_weight_map(prepare_face_mask(face_mask, config), prepare_area_mask(eyes),
                              prepare_area_mask(mouth), config)
    return warped, target, weights


def test_astronaut_face_set_trains_with_masks_and_eye_mouth_weights(
        tmp_path: Path, train_tiny, astronaut_landmarks) -> None:
    _write_face_set(tmp_path, astronaut_landmarks)
    scan = scan_folder(tmp_path, "a")
    assert scan.counts["dfl"] == 2 and all(r.landmarks.shape == (68, 2) for r in scan.records)
    torch.manual_seed(0)
    model = build_model(resolve_options(overrides=train_tiny))
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3)
    config = MaskWeighting()
    losses = []
    for step in range(3):
        examples = [_example(r.path, r.landmarks, step * 10 + i, config, model.input_size)
                    for i, r in enumerate(scan.records)]
        inputs = torch.from_numpy(np.stack([e[0] for e in examples]))
        targets = torch.from_numpy(np.stack([e[1] for e in examples]))
        weights = torch.from_numpy(np.stack([e[2] for e in examples]))[:, None]
        prediction = model.side_forward(inputs, "a")[0]
        loss = weighted_mean(mae_map(prediction, targets), weights)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
        assert float(weights.amax()) == pytest.approx(4.0)  # eye centres: face 1 + eyes 3
        assert weights[..., 0, 0].eq(0).all()  # the corner lies outside the face mask
    assert all(np.isfinite(losses)) and losses[0] > 0


def test_masked_out_prediction_gets_no_gradient(tmp_path: Path) -> None:
    prediction = torch.rand(1, 3, SIZE, SIZE, requires_grad=True)
    weights = torch.zeros(1, 1, SIZE, SIZE)
    weights[..., 20:40, 20:40] = 1.0
    weighted_mean(mae_map(prediction, torch.zeros_like(prediction)), weights).backward()
    assert prediction.grad[..., :20, :].abs().sum() == 0
    assert prediction.grad[..., 20:40, 20:40].abs().sum() > 0
