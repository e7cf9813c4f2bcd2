"""Loss weights: face mask × 1, eyes × 3, mouth × 2; masked-out pixels: 0."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from phaze.data.settings import MaskWeighting
from phaze.data.loss_weights import loss_weight_map, prepare_face_mask
from phaze.errors import ConfigError
from phaze.faces.masks import AREA_BLUR_DIVISOR, AREA_DILATION
from phaze.train.losses import mae_map
from phaze.train.weighted_loss import weighted_mean

SIZE = 64


def _box(top: int, bottom: int, left: int, right: int) -> np.ndarray:
    mask = np.zeros((SIZE, SIZE), np.uint8)
    mask[top:bottom, left:right] = 255
    return mask


def _area(top: int, bottom: int, left: int, right: int) -> np.ndarray:
    """A box area, dilated and blurred as phaze.faces.masks prepares eye and mouth areas."""
    import cv2

    area = _box(top, bottom, left, right).astype(np.float32) / 255.0
    grow = round(SIZE * AREA_DILATION)
    area = cv2.dilate(area, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1,) * 2))
    blur = SIZE // AREA_BLUR_DIVISOR + 1 - (SIZE // AREA_BLUR_DIVISOR) % 2
    return cv2.GaussianBlur(area, (blur, blur), 0)


def _loss_with_error_in(region: np.ndarray, config: MaskWeighting,
                        penalized: bool = True) -> float:
    face = prepare_face_mask(_box(4, 60, 4, 60), config)
    eyes = _area(18, 26, 12, 52)
    mouth = _area(40, 52, 20, 44)
    weights = torch.from_numpy(loss_weight_map(face, eyes, mouth, config, penalized))[None, None]
    target = torch.zeros(1, 3, SIZE, SIZE)
    prediction = target + 0.5 * torch.from_numpy(region > 0).float()[None, None]
    return float(weighted_mean(mae_map(prediction, target), weights))


def test_error_only_in_mouth_scores_three_times_the_loss_with_multipliers_one() -> None:
    mouth_core = _box(44, 48, 26, 38)  # well inside the mouth area, where its weight is 1
    weighted = _loss_with_error_in(mouth_core, MaskWeighting())
    plain = _loss_with_error_in(mouth_core, MaskWeighting(eye_multiplier=1, mouth_multiplier=1))
    assert plain == pytest.approx(0.5 * mouth_core.astype(bool).sum() / SIZE**2, rel=1e-5)
    assert weighted == pytest.approx(3.0 * plain, rel=1e-5)


def test_error_only_in_eyes_scores_four_times() -> None:
    eye_core = _box(21, 23, 20, 44)
    weighted = _loss_with_error_in(eye_core, MaskWeighting())
    plain = _loss_with_error_in(eye_core, MaskWeighting(eye_multiplier=1, mouth_multiplier=1))
    assert weighted == pytest.approx(4.0 * plain, rel=1e-5)


def test_masked_out_pixels_contribute_nothing() -> None:
    outside = _box(0, 2, 0, SIZE)  # the top rows lie outside the face mask and every area
    assert _loss_with_error_in(outside, MaskWeighting()) == 0.0
    assert _loss_with_error_in(outside, MaskWeighting(), penalized=False) > 0.0


def test_face_mask_threshold_snaps_near_black_and_near_white() -> None:
    mask = np.array([[0.03, 0.5], [0.97, 0.2]], np.float32)
    prepared = prepare_face_mask(mask, MaskWeighting(blur_kernel=0))
    np.testing.assert_allclose(prepared, [[0.0, 0.5], [1.0, 0.2]])


def test_face_mask_dilation_grows_by_percent_of_side() -> None:
    grown = prepare_face_mask(_box(20, 44, 20, 44), MaskWeighting(blur_kernel=0, dilation=5))
    shrunk = prepare_face_mask(_box(20, 44, 20, 44), MaskWeighting(blur_kernel=0, dilation=-5))
    # 5 % of 64 px = 3 px each side
    assert grown[32, 17] == 1.0 and grown[32, 16] == 0.0
    assert shrunk[32, 23] == 1.0 and shrunk[32, 22] == 0.0


def test_face_mask_blur_softens_edges_only() -> None:
    prepared = prepare_face_mask(_box(16, 48, 16, 48), MaskWeighting())
    assert prepared[32, 32] == pytest.approx(1.0) and prepared[2, 2] == 0.0
    assert 0.0 < prepared[32, 16] < 1.0


def test_multiplier_below_one_is_refused() -> None:
    with pytest.raises(ConfigError, match="eye_multiplier.*0.5"):
        MaskWeighting(eye_multiplier=0.5)


def test_unknown_mask_type_names_the_option_and_the_choices() -> None:
    with pytest.raises(ConfigError, match="mask_type.*'xseg'.*extended, components, stored"):
        MaskWeighting(mask_type="xseg")
