"""`enc_architecture = "timm:<model name>"`: any timm model as the encoder (beyond faceswap)."""
from __future__ import annotations

import difflib
from functools import lru_cache, partial

import torch
from torch import nn

from phaze.config.options import PhazeAOptions
from phaze.errors import ConfigError
from phaze.model.encoders.registry import EncoderSpec
from phaze.model.encoders.timm_compat import import_timm
from phaze.model.encoders.timm_features import (IMAGENET_MEAN, IMAGENET_STD, FixedNormalise,
                                                TimmFeatures, create_timm)

TIMM_PREFIX = "timm:"


@lru_cache(maxsize=None)
def resolve_timm_encoder(model_name: str) -> EncoderSpec:
    """An EncoderSpec for any timm model: [0, 1] RGB in, normalised inside as its weights expect.

    The output form (feature map, channels-last map, or tokens that are pooled to a vector) is
    learnt once by running the model on the meta device at its default size.
    """
    timm = import_timm()
    if not timm.is_model(model_name):
        close = difflib.get_close_matches(model_name, timm.list_models(), n=5, cutoff=0.6)
        raise ConfigError(f"option 'enc_architecture' = '{TIMM_PREFIX}{model_name}' is "
                          f"invalid: timm has no model '{model_name}'"
                          + (f" (similar: {', '.join(close)})" if close else ""))
    with torch.device("meta"):
        net = create_timm(model_name)
    cfg = net.pretrained_cfg
    size = int(cfg.get("input_size", (3, 224, 224))[-1])
    with torch.device("meta"):
        output = net.eval()(torch.empty(1, 3, size, size))
    form = _output_form(net, output)
    build = partial(_build_any_timm, model_name, form, bool(cfg.get("fixed_input_size")),
                    tuple(cfg.get("mean", IMAGENET_MEAN)), tuple(cfg.get("std", IMAGENET_STD)))
    return EncoderSpec(name=TIMM_PREFIX + model_name, build=build, default_size=size,
                       input_range="unit", has_pretrained=True,
                       weights_hint=f"timm '{model_name}' weights",
                       description=f"timm {model_name} ({form} output)")


def _output_form(net: nn.Module, output: torch.Tensor) -> str:
    if output.dim() == 4:
        return "nhwc" if getattr(net, "output_fmt", "NCHW") == "NHWC" else "nchw"
    return "tokens" if output.dim() == 3 else "vector"


def _build_any_timm(model_name: str, form: str, fixed_size: bool, mean: tuple, std: tuple,
                    opts: PhazeAOptions, input_size: int) -> TimmFeatures:
    kwargs = {"img_size": input_size} if fixed_size else {}   # e.g. ViT position embeddings
    # tokens (N, L, C) are pooled by the model's own pooling (class token or mean) → (N, C)
    net = create_timm(model_name, keep_pooling=form == "tokens", **kwargs)
    return TimmFeatures(net, FixedNormalise(mean, std), nhwc_output=form == "nhwc")
