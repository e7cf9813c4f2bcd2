"""Image losses for training: per-pixel loss maps, per-image losses and the masked, weighted total.

Every loss takes `(prediction, target)` as (N, C, H, W) float tensors in [0, 1] and is computed in
float32 with autocast switched off, whatever precision the model runs in: SSIM's variances and the
final means lose too much in float16.

Two kinds of loss exist:
- *map* losses return a per-pixel map, (N, C, H, W); with a face mask the map is weighted by it.
- *image* losses return one value per image, (N,); with a face mask they see masked images.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from phaze.data.batch import SideBatch
from phaze.registry import Registry
from phaze.train.loss_config import LossConfig
from phaze.train.weighted_loss import weighted_mean

SSIM_WINDOW_PX = 11
SSIM_SIGMA = 1.5
SSIM_K1 = 0.01
SSIM_K2 = 0.03
DATA_RANGE = 1.0
# Wang, Simoncelli & Bovik (2003), finest scale first.
MS_SSIM_WEIGHTS = (0.0448, 0.2856, 0.3001, 0.2363, 0.1333)
# GMSD's constant 170 was chosen for [0, 255] images; rescaled for [0, 1].
GMSD_C = 170.0 / 255.0**2

LossFn = Callable[[Tensor, Tensor], Tensor]


def _in_float32(loss: LossFn) -> LossFn:
    """Evaluate `loss` on float32 inputs with autocast off, so convolutions stay in float32 too."""

    @functools.wraps(loss)
    def wrapper(prediction: Tensor, target: Tensor) -> Tensor:
        with torch.autocast(prediction.device.type, enabled=False):
            return loss(prediction.float(), target.float())

    return wrapper


# --- pixel losses -------------------------------------------------------------------------------

@_in_float32
def mae_map(prediction: Tensor, target: Tensor) -> Tensor:
    """Absolute error per pixel, (N, C, H, W)."""
    return (prediction - target).abs()


@_in_float32
def mse_map(prediction: Tensor, target: Tensor) -> Tensor:
    """Squared error per pixel, (N, C, H, W)."""
    return (prediction - target).square()


@_in_float32
def logcosh_map(prediction: Tensor, target: Tensor) -> Tensor:
    """log(cosh(error)) per pixel: quadratic for small errors, linear for large ones."""
    error = (prediction - target).abs()
    # log(cosh x) = log1p(2 sinh²(x/2)) keeps precision for tiny x, where the textbook
    # x + log1p(exp(-2x)) - log 2 cancels to noise in float32. The clamp keeps sinh finite so
    # the unused branch of `where` cannot leak inf·0 = NaN into the gradient.
    near = torch.log1p(2.0 * torch.sinh(error.clamp(max=20.0) / 2.0).square())
    far = error - math.log(2.0)
    return torch.where(error < 20.0, near, far)


@_in_float32
def pixel_gradient_diff_map(prediction: Tensor, target: Tensor) -> Tensor:
    """|Δx prediction − Δx target| + |Δy prediction − Δy target| per pixel, (N, C, H, W).

    Forward differences; the last row and column have no neighbour and contribute 0.
    """
    # Differencing is linear, so the gradients of the error equal the difference of gradients.
    padded = F.pad(prediction - target, (0, 1, 0, 1), mode="replicate")  # (N, C, H+1, W+1)
    horizontal = padded[..., :-1, 1:] - padded[..., :-1, :-1]
    vertical = padded[..., 1:, :-1] - padded[..., :-1, :-1]
    return horizontal.abs() + vertical.abs()


# --- SSIM family --------------------------------------------------------------------------------

def ssim_window_px(height: int, width: int) -> int:
    """The SSIM window: 11 px, or the largest odd size that fits a smaller image.

    Reflection padding needs the half-window to be smaller than the image side.
    """
    fits = min(height, width, SSIM_WINDOW_PX)
    return fits if fits % 2 == 1 else fits - 1


def _gaussian_window(window_px: int, device: torch.device) -> Tensor:
    """Normalised 1-D Gaussian weights, (window_px,)."""
    offsets = torch.arange(window_px, dtype=torch.float32, device=device) - (window_px - 1) / 2
    weights = torch.exp(-offsets.square() / (2.0 * SSIM_SIGMA**2))
    return weights / weights.sum()


def _gaussian_blur(images: Tensor, window_px: int) -> Tensor:
    """Per-channel Gaussian blur with reflection padding; (N, C, H, W) -> (N, C, H, W)."""
    channels = images.shape[1]
    weights = _gaussian_window(window_px, images.device)
    pad = window_px // 2
    padded = F.pad(images, (pad, pad, pad, pad), mode="reflect")
    # The Gaussian is separable: two 1-D passes cost 2k instead of k² multiplies per pixel.
    across = weights.view(1, 1, 1, window_px).repeat(channels, 1, 1, 1)
    down = weights.view(1, 1, window_px, 1).repeat(channels, 1, 1, 1)
    return F.conv2d(F.conv2d(padded, across, groups=channels), down, groups=channels)


def _ssim_and_contrast_structure(prediction: Tensor, target: Tensor,
                                 window_px: int) -> tuple[Tensor, Tensor]:
    """Per-pixel SSIM and its contrast·structure factor, (N, C, H, W) each."""
    channels = prediction.shape[1]
    # (Co)variances do not change when each image is shifted by a constant, and shifting by the
    # image mean shrinks E[x²] − μ², which in float32 otherwise cancels to ~1e-4 of error.
    offset_p = prediction.mean(dim=(2, 3), keepdim=True)  # (N, C, 1, 1)
    offset_t = target.mean(dim=(2, 3), keepdim=True)
    prediction, target = prediction - offset_p, target - offset_t
    # One blur call for all five local moments: (N, 5C, H, W).
    moments = torch.cat([prediction, target, prediction * prediction, target * target,
                         prediction * target], dim=1)
    mean_p, mean_t, square_p, square_t, product = _gaussian_blur(moments, window_px).split(
        channels, dim=1)
    variance_p = square_p - mean_p.square()
    variance_t = square_t - mean_t.square()
    covariance = product - mean_p * mean_t
    c1 = (SSIM_K1 * DATA_RANGE) ** 2
    c2 = (SSIM_K2 * DATA_RANGE) ** 2
    contrast_structure = (2.0 * covariance + c2) / (variance_p + variance_t + c2)
    mean_p, mean_t = mean_p + offset_p, mean_t + offset_t
    luminance = (2.0 * mean_p * mean_t + c1) / (mean_p.square() + mean_t.square() + c1)
    return luminance * contrast_structure, contrast_structure


@_in_float32
def ssim_map(prediction: Tensor, target: Tensor) -> Tensor:
    """1 − SSIM per pixel and channel, (N, C, H, W): 0 where the images agree."""
    window_px = ssim_window_px(*prediction.shape[-2:])
    ssim, _ = _ssim_and_contrast_structure(prediction, target, window_px)
    return 1.0 - ssim


def ms_ssim_scales(height: int, width: int) -> tuple[int, int]:
    """(number of scales, window size) MS-SSIM uses for an image of this size.

    The standard five scales with an 11 px window need a side of at least 176 px. Smaller images
    never fail; instead the coarsest scale must still be at least one window wide, so scales are
    dropped from the coarse end (64 px: 3 scales, 32 px: 2, under 22 px: 1, i.e. plain SSIM), and
    below 11 px the window shrinks as in `ssim_window_px`. The weights of the scales kept are
    renormalised to sum to 1.
    """
    window_px = ssim_window_px(height, width)
    smallest_side = min(height, width)
    scales = 1
    while scales < len(MS_SSIM_WEIGHTS) and smallest_side // 2**scales >= window_px:
        scales += 1
    return scales, window_px


@_in_float32
def ms_ssim_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """1 − multi-scale SSIM per image, (N,); see `ms_ssim_scales` for small images."""
    scales, window_px = ms_ssim_scales(*prediction.shape[-2:])
    weights = torch.tensor(MS_SSIM_WEIGHTS[:scales], device=prediction.device)
    weights = weights / weights.sum()
    levels = []
    for scale in range(scales):
        ssim, contrast_structure = _ssim_and_contrast_structure(prediction, target, window_px)
        if scale == scales - 1:
            levels.append(ssim.mean(dim=(1, 2, 3)))
        else:
            levels.append(contrast_structure.mean(dim=(1, 2, 3)))
            prediction, target = F.avg_pool2d(prediction, 2), F.avg_pool2d(target, 2)
    # (N, scales). Negative similarities have no real fractional power; the floor also keeps
    # the power's gradient finite.
    stacked = torch.stack(levels, dim=1).clamp(min=1e-6)
    return 1.0 - torch.prod(stacked**weights, dim=1)


# --- gradient-magnitude similarity --------------------------------------------------------------

def _gradient_magnitude(grey: Tensor) -> Tensor:
    """Prewitt gradient magnitude, (N, 1, H, W) -> (N, 1, H, W)."""
    prewitt = torch.tensor([[1.0, 0.0, -1.0]] * 3, device=grey.device) / 3.0
    kernels = torch.stack([prewitt, prewitt.t()]).unsqueeze(1)  # (2, 1, 3, 3)
    gradients = F.conv2d(F.pad(grey, (1, 1, 1, 1), mode="replicate"), kernels)  # (N, 2, H, W)
    # The epsilon keeps sqrt's gradient finite on flat regions.
    return torch.sqrt(gradients.square().sum(dim=1, keepdim=True) + 1e-12)


@_in_float32
def gmsd_loss(prediction: Tensor, target: Tensor) -> Tensor:
    """Gradient magnitude similarity deviation per image, (N,) (Xue et al., 2014).

    Measured on the channel mean (independent of colour order) at half resolution, as the paper
    does, unless the image is under 8 px.
    """
    grey_p = prediction.mean(dim=1, keepdim=True)
    grey_t = target.mean(dim=1, keepdim=True)
    if min(prediction.shape[-2:]) >= 8:
        grey_p, grey_t = F.avg_pool2d(grey_p, 2), F.avg_pool2d(grey_t, 2)
    magnitude_p, magnitude_t = _gradient_magnitude(grey_p), _gradient_magnitude(grey_t)
    similarity = (2.0 * magnitude_p * magnitude_t + GMSD_C) / (
        magnitude_p.square() + magnitude_t.square() + GMSD_C)
    # Epsilon: sqrt's gradient is infinite at zero deviation (identical images).
    return torch.sqrt(similarity.var(dim=(1, 2, 3), unbiased=False) + 1e-12)


# --- registry -----------------------------------------------------------------

@dataclass(frozen=True)
class LossFunction:
    """How to evaluate one named loss: a per-pixel `map` or one value per `image`."""

    kind: Literal["map", "image"]
    evaluate: LossFn


# A new loss is one line here (or `LOSS_FUNCTIONS.add(...)` from anywhere before configs use it).
LOSS_FUNCTIONS: Registry[LossFunction] = Registry("loss function")
LOSS_FUNCTIONS.add("mae", LossFunction("map", mae_map))
LOSS_FUNCTIONS.add("mse", LossFunction("map", mse_map))
LOSS_FUNCTIONS.add("logcosh", LossFunction("map", logcosh_map))
LOSS_FUNCTIONS.add("ssim", LossFunction("map", ssim_map))
LOSS_FUNCTIONS.add("ms_ssim", LossFunction("image", ms_ssim_loss))
LOSS_FUNCTIONS.add("gmsd", LossFunction("image", gmsd_loss))
LOSS_FUNCTIONS.add("pixel_gradient_diff", LossFunction("map", pixel_gradient_diff_map))


# --- the training loss --------------------------------------------------------------------------

@dataclass(frozen=True)
class LossParts:
    """The total to optimise and each function's unweighted value (they keep their graph)."""

    total: Tensor
    parts: dict[str, Tensor]


class FaceLoss(nn.Module):
    """The weighted sum of the configured image losses for one side, plus the learned-mask loss.

    Weighting, as faceswap: a map loss becomes mean(map × w) over every pixel, where w is the
    batch's `loss_weights` (face mask + eyes × 3 + mouth × 2, `phaze.data.loss_weights`) or,
    without them, the mask under `penalized_mask_loss`. Not normalised by the mask's area, so a
    pixel of weight 0 contributes nothing and one of weight 3 counts three times. Image losses
    are evaluated on prediction·mask and target·mask.

    Learned mask (`learn_mask` with both `predicted_mask` and `mask`): the mask loss between them
    (over the rows whose `mask_present` is 1) is added to the total with weight 1 and reported as
    `parts["mask"]`. faceswap never passes the
    mask target, so its learned mask is never trained (faceswap defect 14,
    docs/faceswap-differences.md); this fixes that.
    """

    def __init__(self, config: LossConfig | None = None) -> None:
        super().__init__()
        self.config = config if config is not None else LossConfig()
        # Weight 0 means "off": not evaluated at all, and absent from `parts`.
        self.active = tuple(spec for spec in self.config.functions if spec.weight > 0)

    def of_batch(self, prediction: Tensor, batch: SideBatch,
                 predicted_mask: Tensor | None = None) -> LossParts:
        """The loss of `prediction` against one side's batch (targets, masks, loss weights)."""
        return self(prediction, batch.targets, batch.masks, predicted_mask, batch.loss_weights,
                    batch.mask_present)

    def forward(self, prediction: Tensor, target: Tensor, mask: Tensor | None = None,
                predicted_mask: Tensor | None = None, loss_weights: Tensor | None = None,
                mask_present: Tensor | None = None) -> LossParts:
        """`loss_weights` (N, 1, H, W) replace the mask as the map losses' weights."""
        _check_shapes(prediction, target, mask, predicted_mask, loss_weights)
        with torch.autocast(prediction.device.type, enabled=False):
            prediction, target = prediction.float(), target.float()
            image_mask = mask.float() if mask is not None and self.config.penalized_mask_loss \
                else None
            map_weights = loss_weights.float() if loss_weights is not None else image_mask
            parts = {spec.name: _evaluate(LOSS_FUNCTIONS[spec.name], prediction, target,
                                          map_weights if LOSS_FUNCTIONS[spec.name].kind == "map"
                                          else image_mask) for spec in self.active}
            total = sum(spec.weight * parts[spec.name] for spec in self.active)
            if self.config.learn_mask and predicted_mask is not None and mask is not None:
                parts["mask"] = self._mask_loss(predicted_mask.float(), mask.float(), mask_present)
                total = total + parts["mask"]
        return LossParts(total=total, parts=parts)

    def _mask_loss(self, predicted_mask: Tensor, mask: Tensor,
                   present: Tensor | None) -> Tensor:
        """Mean error of the predicted mask against the target, over rows that have a mask."""
        loss_map = LOSS_FUNCTIONS[self.config.mask_loss_function].evaluate(predicted_mask, mask)
        if present is None:
            return loss_map.mean()
        per_row = loss_map.flatten(1).mean(1)
        return (per_row * present.float()).sum() / present.float().sum().clamp(min=1.0)


def _evaluate(function: LossFunction, prediction: Tensor, target: Tensor,
              mask: Tensor | None) -> Tensor:
    """One function's scalar loss, masked as `FaceLoss` documents."""
    if function.kind == "image":
        if mask is not None:
            prediction, target = prediction * mask, target * mask
        return function.evaluate(prediction, target).mean()
    loss_map = function.evaluate(prediction, target)  # (N, C, H, W)
    if mask is None:
        return loss_map.mean()
    return weighted_mean(loss_map, mask)


def _check_shapes(prediction: Tensor, target: Tensor, mask: Tensor | None,
                  predicted_mask: Tensor | None, loss_weights: Tensor | None = None) -> None:
    """Fail early, naming the shapes, instead of broadcasting into a wrong loss."""
    if prediction.ndim != 4 or prediction.shape != target.shape:
        raise ValueError(f"prediction {tuple(prediction.shape)} and target "
                         f"{tuple(target.shape)} must be equal (N, C, H, W) shapes")
    expected = (prediction.shape[0], 1, *prediction.shape[2:])
    for label, tensor in (("mask", mask), ("predicted_mask", predicted_mask),
                          ("loss_weights", loss_weights)):
        if tensor is not None and tuple(tensor.shape) != expected:
            raise ValueError(f"{label} has shape {tuple(tensor.shape)}; expected {expected}")
