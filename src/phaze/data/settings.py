"""The data pipeline's settings (augmentation, masks and loss weights), free of OpenCV and torch
so the command line can read them cheaply."""
from __future__ import annotations

from dataclasses import dataclass

from phaze.config.flags import flag
from phaze.errors import ConfigError
from phaze.registry import Registry


@dataclass(frozen=True)
class AugmentConfig:
    """faceswap's augmentation options and defaults; amounts are percent, angles degrees."""

    rotation_range: float = 10.0  # rotation uniform in ± this many degrees
    zoom_amount: float = 5.0  # scale uniform in 1 ± this %
    shift_range: float = 5.0  # translation uniform in ± this % of the size, per axis
    flip_chance: float = 50.0  # % chance of a horizontal flip
    color_lightness: float = 30.0  # L* factor uniform in ± this %
    color_ab: float = 8.0  # a* and b* factors uniform in ± this %
    color_clahe_chance: float = 50.0  # % chance of CLAHE on L*
    color_clahe_max_size: int = 4  # CLAHE grid grows by up to this many half-base steps
    warp: bool = True
    # Warp the input toward a similar face of the other side instead of the random grid warp
    # (faceswap's option, off by default); faces without landmarks keep the grid warp.
    warp_to_landmarks: bool = flag(False, store=True, help="warp inputs toward similar faces "
                                   "of the other side (needs landmarks)")
    color: bool = True
    flip: bool = True

    def __post_init__(self) -> None:
        for name in ("flip_chance", "color_clahe_chance"):
            if not 0.0 <= getattr(self, name) <= 100.0:
                raise ConfigError(f"trainer option 'augment.{name}' = {getattr(self, name)!r} "
                                  "is invalid: expected a percentage from 0 to 100")


# Where each training face's mask comes from. extended/components are drawn from the landmarks
# (faces without landmarks fall back to a stored mask, then the masks/ folder); stored is the
# file's own mask (DFL XSeg, faceswap's first stored mask); folder is masks/<stem>.png;
# occlusion is masks/<stem>.png as the occlusion segmenter (`mask_model`, phaze.masks) wrote it,
# or a drawn one, falling back to the extended mask where a face has none.
MASK_TYPES = Registry.of("mask type", ("extended", "components", "stored", "folder", "none",
                                      "occlusion"))


@dataclass(frozen=True)
class MaskWeighting:
    """faceswap's training mask options and defaults (penalized_mask_loss is a loss option)."""

    mask_type: str = flag("extended", help="extended (default), components, stored, folder, "
                          "occlusion or none")
    blur_kernel: int = flag(3, name="mask-blur", help="mask blur kernel in px on a 128 px face "
                            "(3; 0 = no blur)")
    # %: values below it become 0, above 100 − it become 1
    threshold: float = flag(4.0, name="mask-threshold", help="mask threshold in %% (4)")
    dilation: float = flag(0.0, name="mask-dilation", help="grow (+) or shrink (-) the mask "
                           "by this %% of its side (0)")
    # the eye term exists only above 1, as in faceswap
    eye_multiplier: float = flag(3.0, help="loss weight of the eyes (3; 1 = off)")
    mouth_multiplier: float = flag(2.0, help="loss weight of the mouth (2; 1 = off)")
    mask_model: str = flag(
        "", help="occlusion: a mask model folder from `phaze mask train`; its masks are written "
        "to each face folder's masks/ before training")

    def __post_init__(self) -> None:
        MASK_TYPES.check(self.mask_type, "trainer option 'masks.mask_type' =")
        if self.blur_kernel < 0:
            raise ConfigError(f"mask blur_kernel must be >= 0 px, got {self.blur_kernel}.")
        if not 0.0 <= self.threshold < 50.0:
            raise ConfigError(f"mask threshold must be in [0, 50) %, got {self.threshold}.")
        if not -50.0 <= self.dilation <= 50.0:
            raise ConfigError(f"mask dilation must be in [-50, 50] %, got {self.dilation}.")
        for name in ("eye_multiplier", "mouth_multiplier"):
            if getattr(self, name) < 1.0:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}.")
