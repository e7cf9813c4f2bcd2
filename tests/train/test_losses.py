"""Tests for the training losses: values, masking, the learned-mask loss and config errors."""
import math

import pytest
import torch

from phaze.errors import ConfigError
from phaze.train.loss_config import LossConfig, LossSpec, parse_loss_list
from phaze.train.losses import (LOSS_FUNCTIONS, FaceLoss, gmsd_loss, logcosh_map, mae_map,
                                ms_ssim_loss, ms_ssim_scales, mse_map, ssim_map)


def _images(size: int = 64, batch: int = 2, seed: int = 0) -> torch.Tensor:
    """Smooth random images (blurred noise), closer to faces than white noise."""
    generator = torch.Generator().manual_seed(seed)
    coarse = torch.rand(batch, 3, size // 8, size // 8, generator=generator)
    return torch.nn.functional.interpolate(coarse, size=(size, size), mode="bilinear",
                                           align_corners=False)


def _slightly_noised(images: torch.Tensor) -> torch.Tensor:
    generator = torch.Generator().manual_seed(1)
    return (images + 0.02 * torch.randn(images.shape, generator=generator)).clamp(0, 1)


def _noise_like(images: torch.Tensor) -> torch.Tensor:
    return torch.rand(images.shape, generator=torch.Generator().manual_seed(2))


def _single_loss(name: str, **config) -> FaceLoss:
    return FaceLoss(LossConfig(functions=(LossSpec(name, 1.0),), **config))


# --- per-function values ------------------------------------------------------------------------

@pytest.mark.parametrize("name", sorted(LOSS_FUNCTIONS))
def test_identical_images_have_zero_loss(name):
    images = _images()

    loss = _single_loss(name)(images, images.clone()).total

    assert loss.item() == pytest.approx(0.0, abs=1e-5)


@pytest.mark.parametrize("name", sorted(LOSS_FUNCTIONS))
@pytest.mark.parametrize("pair", ["identical", "noise"])
def test_gradients_are_finite(name, pair):
    # Identical images sit on sqrt/pow singularities; NaN gradients would halt training.
    target = _images()
    prediction = (target.clone() if pair == "identical" else _noise_like(target)).requires_grad_()

    _single_loss(name)(prediction, target).total.backward()

    assert torch.isfinite(prediction.grad).all()


def test_mse_and_mae_of_constant_images():
    zeros, halves = torch.zeros(1, 3, 8, 8), torch.full((1, 3, 8, 8), 0.5)

    assert torch.allclose(mse_map(zeros, halves), torch.full((1, 3, 8, 8), 0.25))
    assert torch.allclose(mae_map(zeros, halves), torch.full((1, 3, 8, 8), 0.5))


def test_logcosh_is_quadratic_for_small_and_linear_for_large_errors():
    errors = torch.tensor([1e-3, 1e-2, 0.5, 30.0]).view(1, 1, 1, 4)

    values = logcosh_map(errors, torch.zeros_like(errors)).flatten()

    assert values[0].item() == pytest.approx(1e-3**2 / 2, rel=1e-3)
    assert values[1].item() == pytest.approx(1e-2**2 / 2, rel=1e-3)
    assert values[2].item() == pytest.approx(math.log(math.cosh(0.5)), rel=1e-5)
    assert values[3].item() == pytest.approx(30.0 - math.log(2.0), rel=1e-6)


def test_ssim_of_constant_images_is_the_luminance_term():
    # Flat images have no variance, so SSIM reduces to (2ab + c1) / (a² + b² + c1).
    dark, light = torch.full((1, 1, 16, 16), 0.2), torch.full((1, 1, 16, 16), 0.6)
    c1 = 0.01**2

    loss = ssim_map(dark, light)

    expected = 1 - (2 * 0.2 * 0.6 + c1) / (0.2**2 + 0.6**2 + c1)
    assert torch.allclose(loss, torch.full_like(loss, expected), atol=1e-6)


def _reference_ssim_map(prediction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Textbook SSIM in float64: a full 11×11 Gaussian (σ 1.5), reflection padding, per channel."""
    prediction, target = prediction.double(), target.double()
    offsets = torch.arange(11, dtype=torch.float64) - 5
    gaussian = torch.exp(-offsets**2 / (2 * 1.5**2))
    window = torch.outer(gaussian, gaussian) / torch.outer(gaussian, gaussian).sum()
    channels = prediction.shape[1]
    kernel = window.expand(channels, 1, 11, 11)

    def blur(images):
        padded = torch.nn.functional.pad(images, (5, 5, 5, 5), mode="reflect")
        return torch.nn.functional.conv2d(padded, kernel, groups=channels)

    mean_p, mean_t = blur(prediction), blur(target)
    variance_p = blur(prediction**2) - mean_p**2
    variance_t = blur(target**2) - mean_t**2
    covariance = blur(prediction * target) - mean_p * mean_t
    c1, c2 = 0.01**2, 0.03**2
    ssim = ((2 * mean_p * mean_t + c1) * (2 * covariance + c2)) / (
        (mean_p**2 + mean_t**2 + c1) * (variance_p + variance_t + c2))
    return 1 - ssim


def test_ssim_map_matches_a_float64_reference():
    images = _images(32)
    other = _slightly_noised(images)

    loss = ssim_map(images, other)

    assert loss.shape == images.shape
    assert torch.allclose(loss.double(), _reference_ssim_map(images, other), atol=1e-4)


@pytest.mark.parametrize("loss", [
    lambda p, t: ssim_map(p, t).mean(), lambda p, t: ms_ssim_loss(p, t).mean(),
    lambda p, t: gmsd_loss(p, t).mean(),
], ids=["ssim", "ms_ssim", "gmsd"])
def test_noise_scores_worse_than_a_slightly_noised_copy(loss):
    images = _images()

    near = loss(images, _slightly_noised(images))
    far = loss(images, _noise_like(images))

    assert near.item() > 1e-4
    assert far.item() > 2 * near.item()


@pytest.mark.parametrize("size, expected", [
    (256, (5, 11)), (176, (5, 11)), (160, (4, 11)), (64, (3, 11)), (32, (2, 11)),
    (16, (1, 11)), (8, (1, 7)), (5, (1, 5)),
])
def test_ms_ssim_reduces_scales_and_window_for_small_images(size, expected):
    assert ms_ssim_scales(size, size) == expected


@pytest.mark.parametrize("size", [64, 32])
def test_ms_ssim_works_at_small_sizes(size):
    images = _images(size)

    near = ms_ssim_loss(images, _slightly_noised(images))
    far = ms_ssim_loss(images, _noise_like(images))

    assert near.shape == (2,)
    assert torch.all((near > 0) & (near < far) & (far <= 1))


def test_single_scale_ms_ssim_equals_mean_ssim():
    images = _images(16)
    other = _slightly_noised(images)

    ms_ssim = ms_ssim_loss(images, other)

    assert torch.allclose(ms_ssim, ssim_map(images, other).mean(dim=(1, 2, 3)), atol=1e-6)


def test_losses_are_float32_under_autocast():
    images = _images()
    other = _slightly_noised(images)
    reference = FaceLoss()(images, other)

    with torch.autocast("cpu", dtype=torch.bfloat16):
        result = FaceLoss()(images.bfloat16(), other.bfloat16())

    assert result.total.dtype == torch.float32
    assert result.parts["ssim"].dtype == torch.float32
    # Only the bfloat16 rounding of the inputs differs, not the arithmetic.
    assert result.parts["ssim"].item() == pytest.approx(reference.parts["ssim"].item(), rel=0.1)


# --- FaceLoss ------------------------------------------------------------------------------------

def test_default_total_is_ssim_plus_mse():
    images = _images()
    other = _slightly_noised(images)

    result = FaceLoss()(images, other)

    assert set(result.parts) == {"ssim", "mse"}
    assert result.parts["mse"].item() == pytest.approx(mse_map(images, other).mean().item())
    assert result.total.item() == pytest.approx(
        result.parts["ssim"].item() + result.parts["mse"].item())


def test_weights_scale_the_total_and_zero_weight_switches_off():
    images = _images()
    other = _slightly_noised(images)
    config = LossConfig(functions=parse_loss_list("mae:2,mse:0.5,ssim:0"))

    result = FaceLoss(config)(images, other)

    assert set(result.parts) == {"mae", "mse"}
    assert result.total.item() == pytest.approx(
        2 * result.parts["mae"].item() + 0.5 * result.parts["mse"].item())


def _left_half_mask(size: int = 64) -> torch.Tensor:
    mask = torch.zeros(2, 1, size, size)
    mask[..., : size // 2] = 1.0
    return mask


@pytest.mark.parametrize("name", sorted(LOSS_FUNCTIONS))
def test_mask_ignores_errors_outside_the_mask(name):
    images = _images()
    damaged = images.clone()
    # Far enough (> half an SSIM window) from the mask edge that no window reaches inside.
    damaged[..., 44:] = _noise_like(images)[..., 44:]

    loss = _single_loss(name)(damaged, images, mask=_left_half_mask()).total

    unmasked = _single_loss(name)(damaged, images).total
    assert unmasked.item() > 1e-2
    assert loss.item() == pytest.approx(0.0, abs=1e-5)


def test_masked_loss_is_faceswaps_mean_over_every_pixel():
    zeros, halves = torch.zeros(2, 3, 64, 64), torch.full((2, 3, 64, 64), 0.5)

    loss = _single_loss("mse")(zeros, halves, mask=_left_half_mask()).total

    # mean(0.25 × mask): half the pixels count, not normalised by the mask's area.
    assert loss.item() == pytest.approx(0.125, rel=1e-5)


def test_all_zero_mask_gives_zero_not_nan():
    images = _images()

    loss = _single_loss("mse")(images, _noise_like(images), mask=torch.zeros(2, 1, 64, 64))

    assert loss.total.item() == 0.0


def test_mask_is_ignored_without_penalized_mask_loss():
    images = _images()
    damaged = images.clone()
    damaged[..., 44:] = 0.0

    loss = _single_loss("mse", penalized_mask_loss=False)(damaged, images,
                                                        mask=_left_half_mask()).total

    assert loss.item() == pytest.approx(mse_map(damaged, images).mean().item())


def test_learned_mask_loss_is_added_and_trains_the_predicted_mask():
    images = _images()
    mask = _left_half_mask()
    predicted_mask = torch.full_like(mask, 0.5, requires_grad=True)
    loss = _single_loss("mse", learn_mask=True)

    result = loss(images, images, mask=mask, predicted_mask=predicted_mask)
    result.total.backward()

    assert result.parts["mask"].item() == pytest.approx(0.25)
    assert result.total.item() == pytest.approx(0.25, abs=1e-6)
    # d/dp mean((p − m)²) = 2(p − m)/count: negative inside the mask, positive outside.
    count = mask.numel()
    assert predicted_mask.grad[..., 0, 0].flatten().tolist() == pytest.approx([-1 / count] * 2)
    assert predicted_mask.grad[..., 0, -1].flatten().tolist() == pytest.approx([1 / count] * 2)


def test_learned_mask_can_use_mae():
    mask = _left_half_mask()
    predicted_mask = torch.full_like(mask, 0.25)
    loss = _single_loss("mse", learn_mask=True, mask_loss_function="mae")

    result = loss(_images(), _images(), mask=mask, predicted_mask=predicted_mask)

    assert result.parts["mask"].item() == pytest.approx(0.5 * 0.75 + 0.5 * 0.25)


def test_no_mask_loss_without_learn_mask_or_target():
    images, mask = _images(), _left_half_mask()
    predicted = torch.rand_like(mask)

    off = _single_loss("mse")(images, images, mask=mask, predicted_mask=predicted)
    no_target = _single_loss("mse", learn_mask=True)(images, images, predicted_mask=predicted)

    assert "mask" not in off.parts
    assert "mask" not in no_target.parts


def test_mismatched_shapes_are_rejected():
    images = _images()

    with pytest.raises(ValueError, match="mask"):
        FaceLoss()(images, images, mask=torch.ones(2, 1, 32, 32))
    with pytest.raises(ValueError, match="target"):
        FaceLoss()(images, images[:, :, :32])


# --- configuration -------------------------------------------------------------------------------

def test_parse_loss_list():
    specs = parse_loss_list("ssim:1, mse:1,ms_ssim:0.5,logcosh")

    assert specs == (LossSpec("ssim", 1.0), LossSpec("mse", 1.0), LossSpec("ms_ssim", 0.5),
                     LossSpec("logcosh", 1.0))


def test_unknown_loss_name_is_a_config_error_listing_allowed_names():
    with pytest.raises(ConfigError, match="'ssmi'.*expected one of: .*ssim"):
        LossSpec("ssmi", 1.0)
    with pytest.raises(ConfigError, match="'lpips_vgg16'"):
        parse_loss_list("ssim:1,lpips_vgg16:1")


@pytest.mark.parametrize("weight", [-0.5, math.nan, math.inf])
def test_invalid_weight_is_a_config_error(weight):
    with pytest.raises(ConfigError, match="weight of 'mse'"):
        LossSpec("mse", weight)


@pytest.mark.parametrize("text, message", [
    ("", "malformed"), ("ssim:1,,mse:1", "malformed"), ("ssim:abc", "'abc'.*not a number"),
    ("ssim:1,ssim:2", "ssim more than once"), ("ssim:0", "no positive weight"),
    ("mse:-1", "weight of 'mse'"),
])
def test_bad_loss_lists_are_config_errors(text, message):
    with pytest.raises(ConfigError, match=message):
        parse_loss_list(text)


def test_bad_mask_loss_function_is_a_config_error():
    with pytest.raises(ConfigError, match="mask_loss_function 'ssim'.*expected one of: mse, mae"):
        LossConfig(mask_loss_function="ssim")


def test_loss_weights_multiply_each_pixels_error_without_normalising():
    from phaze.data.batch import SideBatch

    generator = torch.Generator().manual_seed(3)
    prediction, target = (torch.rand(2, 3, 16, 16, generator=generator) for _ in range(2))
    weights = torch.zeros(2, 1, 16, 16)
    weights[..., :8] = 3.0   # only the left half counts, three times
    loss = FaceLoss(LossConfig(functions=(LossSpec("mse"), LossSpec("ms_ssim", 0.0))))
    weighted = loss.of_batch(prediction, SideBatch(target, target, None, weights))
    left_only = loss(prediction[..., :8], target[..., :8])
    # mean over all pixels of 3 × error on the left half = 3 × ½ × the left half's mean.
    torch.testing.assert_close(weighted.total, 1.5 * left_only.total)


def test_learned_mask_trains_only_on_rows_that_have_a_mask():
    from phaze.data.batch import SideBatch

    target = torch.rand(2, 3, 16, 16)
    mask = torch.ones(2, 1, 16, 16)
    predicted = torch.zeros(2, 1, 16, 16, requires_grad=True)
    loss = FaceLoss(LossConfig(learn_mask=True))
    batch = SideBatch(target, target, mask, mask_present=torch.tensor([1.0, 0.0]))
    parts = loss.of_batch(target, batch, predicted)
    parts.parts["mask"].backward()
    assert parts.parts["mask"].item() == pytest.approx(1.0)  # row 0 only: mse of 0 vs 1
    assert predicted.grad[1].abs().sum() == 0 and predicted.grad[0].abs().sum() > 0
