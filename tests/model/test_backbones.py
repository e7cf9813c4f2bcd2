"""Every `enc_architecture`: metadata, shapes and parameter counts, parametrised."""
import logging
import subprocess
import sys

import pytest
import torch

from phaze.config.options import PhazeAOptions
from phaze.config.presets import resolve_options
from phaze.errors import ConfigError
from phaze.model.encoders import ENCODERS
from phaze.model.encoders.timm_compat import timm_available
from phaze.model.design import plan_design
from phaze.model.geometry import encoder_input_size
from phaze.model.phaze_a import build_model

from designs import TINY

# per backbone: default px, min px, S@100 %, range, colour, output @100 %, output @50 % as (C, H, W)
# or (E,), and Keras' (trainable, non-trainable) parameter counts of the backbone.
SPEC_TABLE = {
    "clipv_farl-b-16-16": (224, 32, 224, "unit", "rgb", (512,), (512,), None),
    "clipv_farl-b-16-64": (224, 32, 224, "unit", "rgb", (512,), (512,), None),
    "clipv_vit-b-16": (224, 32, 224, "unit", "rgb", (512,), (512,), None),
    "clipv_vit-b-32": (224, 32, 224, "unit", "rgb", (512,), (512,), None),
    "clipv_vit-l-14": (224, 32, 224, "unit", "rgb", (768,), (768,), None),
    "clipv_vit-l-14-336px": (336, 32, 336, "unit", "rgb", (768,), (768,), None),
    "convnext_tiny": (224, 32, 224, "byte", "rgb", (768, 7, 7), (768, 3, 3), (27820128, 0)),
    "convnext_small": (224, 32, 224, "byte", "rgb", (768, 7, 7), (768, 3, 3), (49454688, 0)),
    "convnext_base": (224, 32, 224, "byte", "rgb", (1024, 7, 7), (1024, 3, 3), (87566464, 0)),
    "convnext_large": (224, 32, 224, "byte", "rgb", (1536, 7, 7), (1536, 3, 3),
                       (196230336, 0)),
    "convnext_extra_large": (224, 32, 224, "byte", "rgb", (2048, 7, 7), (2048, 3, 3),
                             (348147968, 0)),
    "densenet121": (224, 32, 224, "unit", "rgb", (1024, 7, 7), (1024, 3, 3), (6953856, 83648)),
    "densenet169": (224, 32, 224, "unit", "rgb", (1664, 7, 7), (1664, 3, 3),
                    (12484480, 158400)),
    "densenet201": (224, 32, 224, "unit", "rgb", (1920, 7, 7), (1920, 3, 3),
                    (18092928, 229056)),
    "efficientnet_b0": (224, 32, 224, "byte", "rgb", (1280, 7, 7), (1280, 4, 4),
                        (4007548, 42023)),
    "efficientnet_b1": (240, 32, 240, "byte", "rgb", (1280, 8, 8), (1280, 4, 4),
                        (6513184, 62055)),
    "efficientnet_b2": (260, 32, 256, "byte", "rgb", (1408, 8, 8), (1408, 4, 4),
                        (7700994, 67575)),
    "efficientnet_b3": (300, 32, 288, "byte", "rgb", (1536, 9, 9), (1536, 5, 5),
                        (10696232, 87303)),
    "efficientnet_b4": (380, 32, 368, "byte", "rgb", (1792, 12, 12), (1792, 6, 6),
                        (17548616, 125207)),
    "efficientnet_b5": (456, 32, 448, "byte", "rgb", (2048, 14, 14), (2048, 7, 7),
                        (28340784, 172743)),
    "efficientnet_b6": (528, 32, 528, "byte", "rgb", (2304, 17, 17), (2304, 8, 8),
                        (40735704, 224439)),
    "efficientnet_b7": (600, 32, 592, "byte", "rgb", (2560, 19, 19), (2560, 9, 9),
                        (63786960, 310727)),
    "efficientnet_v2_b0": (224, 32, 224, "signed", "rgb", (1280, 7, 7), (1280, 4, 4),
                           (5858704, 60608)),
    "efficientnet_v2_b1": (240, 32, 240, "signed", "rgb", (1280, 8, 8), (1280, 4, 4),
                           (6860052, 71072)),
    "efficientnet_v2_b2": (260, 32, 256, "signed", "rgb", (1408, 8, 8), (1408, 4, 4),
                           (8687086, 82288)),
    "efficientnet_v2_b3": (300, 32, 288, "signed", "rgb", (1536, 9, 9), (1536, 5, 5),
                           (12821406, 109216)),
    "efficientnet_v2_s": (384, 32, 384, "signed", "rgb", (1280, 12, 12), (1280, 6, 6),
                          (20177488, 153872)),
    "efficientnet_v2_m": (480, 32, 480, "signed", "rgb", (1280, 15, 15), (1280, 8, 8),
                          (52858356, 292032)),
    "efficientnet_v2_l": (480, 32, 480, "signed", "rgb", (1280, 15, 15), (1280, 8, 8),
                          (117234272, 512576)),
    "inception_resnet_v2": (299, 75, 288, "signed", "rgb", (1536, 7, 7), (1536, 3, 3),
                            (54276192, 60544)),
    "inception_v3": (299, 75, 288, "signed", "rgb", (2048, 7, 7), (2048, 3, 3),
                     (21768352, 34432)),
    "mobilenet": (224, 32, 224, "signed", "rgb", (1024, 7, 7), (1024, 3, 3), (3206976, 21888)),
    "mobilenet_v2": (224, 32, 224, "signed", "rgb", (1280, 7, 7), (1280, 4, 4),
                     (2223872, 34112)),
    "mobilenet_v3_large": (224, 32, 224, "signed", "rgb", (960, 7, 7), (960, 4, 4),
                           (2971952, 24400)),
    "mobilenet_v3_small": (224, 32, 224, "signed", "rgb", (576, 7, 7), (576, 4, 4),
                           (927008, 12112)),
    "nasnet_large": (331, 32, 320, "signed", "rgb", (4032, 10, 10), (4032, 5, 5),
                     (84720150, 196668)),
    # faceswap cannot build NASNet-Mobile: shapes and counts are those of Keras
    # Applications' NASNetMobile (5 326 716 weights with its 1 057 000-weight classifier).
    "nasnet_mobile": (224, 32, 224, "signed", "rgb", (1056, 7, 7), (1056, 4, 4),
                      (4232978, 36738)),
    "resnet50": (224, 32, 224, "signed", "rgb", (2048, 7, 7), (2048, 4, 4), (23534592, 53120)),
    "resnet50_v2": (224, 32, 224, "signed", "rgb", (2048, 7, 7), (2048, 4, 4),
                    (23519360, 45440)),
    "resnet101": (224, 32, 224, "signed", "rgb", (2048, 7, 7), (2048, 4, 4),
                  (42552832, 105344)),
    "resnet101_v2": (224, 32, 224, "signed", "rgb", (2048, 7, 7), (2048, 4, 4),
                     (42528896, 97664)),
    "resnet152": (224, 32, 224, "signed", "rgb", (2048, 7, 7), (2048, 4, 4),
                  (58219520, 151424)),
    "resnet152_v2": (224, 32, 224, "signed", "rgb", (2048, 7, 7), (2048, 4, 4),
                     (58187904, 143744)),
    "vgg16": (224, 32, 224, "byte", "bgr", (512, 7, 7), (512, 3, 3), (14714688, 0)),
    "vgg19": (224, 32, 224, "byte", "bgr", (512, 7, 7), (512, 3, 3), (20024384, 0)),
    "xception": (299, 71, 288, "signed", "rgb", (2048, 9, 9), (2048, 5, 5), (20806952, 54528)),
}
# Documented in docs/backbones.md: Keras' Inception batch norms have no γ; ours keep γ as a
# constant buffer (so timm's pretrained γ still loads), one value per batch-norm channel.
NON_TRAINABLE_EXTRA = {"inception_v3": 17216, "inception_resnet_v2": 30272}
# CLIP counts depend on the input size (positional embedding)
CLIP_COUNTS = {
    "clipv_vit-b-16": {224: 86192640, 112: 86079744},
    "clipv_farl-b-16-64": {224: 86192640, 112: 86079744},
    "clipv_vit-b-32": {224: 87849216, 112: 87818496},
    "clipv_vit-l-14": {224: 303966208, 112: 303769600},
    "clipv_vit-l-14-336px": {336: 304293888, 160: 303827968},
}
TIMM_FREE = {"fs_original", "vgg16", "vgg19"} | {n for n in SPEC_TABLE if n.startswith("clipv")}
# Real (not meta) forward/backward at the smallest input: one small net per family.
REAL_SUBSET = {"fs_original", "mobilenet", "mobilenet_v2", "mobilenet_v3_small",
               "mobilenet_v3_large", "efficientnet_b0", "efficientnet_v2_b0", "densenet121",
               "resnet50", "resnet50_v2", "vgg16", "xception", "inception_v3", "nasnet_mobile",
               "convnext_tiny", "clipv_vit-b-32"}
SMALL = dict(TINY)


pytestmark = pytest.mark.usefixtures("one_thread")


def require_backend(name: str) -> None:
    """Skip timm-backed encoders where timm is not installed."""
    if name not in TIMM_FREE:
        timm_available()            # lets timm import on CPU-only torch (timm_compat)
        pytest.importorskip("timm")


def counts(module: torch.nn.Module) -> tuple[int, int]:
    """(trainable, non-trainable) as Keras counts: parameters, then stored buffers."""
    trainable = sum(p.numel() for p in module.parameters())
    stored = sum(t.numel() for k, t in module.state_dict().items()
                 if not k.endswith("num_batches_tracked"))
    return trainable, stored - trainable


def small_options(name: str, **changes) -> PhazeAOptions:
    return resolve_options(overrides={**SMALL, "enc_architecture": name, "enc_scaling": 10,
                                      **changes})


def test_registry_holds_the_47_names_of_the_spec():
    assert set(ENCODERS.names()) == set(SPEC_TABLE) | {"fs_original"}
    assert len(ENCODERS.names()) == 47


@pytest.mark.parametrize("name", sorted(SPEC_TABLE))
def test_spec_metadata_matches_table(name):
    default, minimum, at_100, input_range, colour = SPEC_TABLE[name][:5]
    spec = ENCODERS.get_entry(name)
    assert (spec.default_size, spec.min_size, spec.input_range, spec.colour_order) == (
        default, minimum, input_range, colour)
    assert encoder_input_size(default, minimum, 100) == at_100


@pytest.mark.parametrize("name", ENCODERS.names())
def test_builds_at_small_scaling_with_the_design_shape(name):
    require_backend(name)
    real = name in REAL_SUBSET
    model = build_model(small_options(name), None if real else "meta")
    size = model.input_size
    faces = torch.rand(2, 3, size, size, device=None if real else "meta")
    features = model.encoder.backbone(model.encoder.mapping(faces))
    encoded = model.encoder(faces)
    assert tuple(features.shape[1:]) == model.design.feature_shape
    assert tuple(encoded.shape[1:]) == model.design.encoder_out
    if real:
        encoded.float().square().mean().backward()
        unused = [k for k, p in model.encoder.named_parameters() if p.grad is None]
        assert not unused     # every backbone weight is used (DDP would fail otherwise)


@pytest.mark.parametrize("name", sorted(SPEC_TABLE))
def test_backbone_matches_spec_shapes_and_counts(name):
    require_backend(name)
    default, minimum, at_100, _, _, out_100, out_50, keras_counts = SPEC_TABLE[name]
    half = plan_design(small_options(name, enc_scaling=50))
    assert half.input_size == encoder_input_size(default, minimum, 50)
    assert half.feature_shape == out_50
    with torch.device("meta"):
        backbone = ENCODERS.get_entry(name).build(small_options(name, enc_scaling=100), at_100)
        features = backbone.eval()(torch.empty(1, 3, at_100, at_100))
    assert tuple(features.shape[1:]) == out_100
    if keras_counts is not None:
        trainable, non_trainable = keras_counts
        assert counts(backbone) == (trainable, non_trainable + NON_TRAINABLE_EXTRA.get(name, 0))


@pytest.mark.parametrize("name, size", [(n, s) for n, by_size in CLIP_COUNTS.items()
                                        for s in by_size])
def test_clip_parameter_count_follows_input_size(name, size):
    spec = ENCODERS.get_entry(name)
    with torch.device("meta"):
        visual = spec.build(PhazeAOptions(), size)
    assert counts(visual) == (CLIP_COUNTS[name][size], 0)


# the `encoder` sub-model (backbone + bottleneck) of backbone designs
ENCODER_COUNTS = {
    "stojo": (62506824, 125207),
    "sym384": (20177488, 153872),
    "clipfaker128": (86054400, 0),
    "clipfaker256": (86091264, 0),
    "clipfaker448": (86192640, 0),
}
ENCODER_ROWS = [
    ({"enc_architecture": "efficientnet_v2_b0", "enc_scaling": 50}, 112, (26831248, 60608)),
    ({"enc_architecture": "densenet121", "enc_scaling": 58}, 128, (23732096, 83648)),
    ({"enc_architecture": "clipv_vit-b-32", "enc_scaling": 58, "bottleneck_type": "flatten"},
     128, (87823872, 0)),
]


@pytest.mark.parametrize("preset", sorted(ENCODER_COUNTS))
def test_preset_encoder_counts_equal_the_spec(preset):
    options = resolve_options(preset)
    require_backend(options.enc_architecture)
    model = build_model(options, "meta")
    assert counts(model.encoder) == ENCODER_COUNTS[preset]


@pytest.mark.parametrize("changes, size, expected", ENCODER_ROWS)
def test_single_option_row_encoder_counts_equal_the_spec(changes, size, expected):
    require_backend(changes["enc_architecture"])
    model = build_model(resolve_options(overrides=changes), "meta")
    assert model.input_size == size
    assert counts(model.encoder) == expected


# --- input rules and options reaching the backbone ---------------------------
def test_nasnet_with_weights_is_forced_to_its_default_size_with_a_warning(caplog):
    require_backend("nasnet_mobile")
    options = small_options("nasnet_mobile", enc_scaling=50, enc_load_weights=True)
    with caplog.at_level(logging.WARNING):
        model = build_model(options, "meta")
    assert model.input_size == 224
    assert any("enc_scaling = 50" in r.getMessage() and r.levelno == logging.WARNING
               for r in caplog.records)


def test_nasnet_without_weights_uses_the_scaled_size():
    require_backend("nasnet_large")
    model = build_model(small_options("nasnet_large", enc_scaling=50), "meta")
    assert model.input_size == 160


@pytest.mark.parametrize("name, changes", [
    ("mobilenet", {"mobilenet_width": 0.5}),
    ("mobilenet", {"mobilenet_depth": 2}),
    ("mobilenet_v2", {"mobilenet_width": 0.5}),
    ("mobilenet_v3_large", {"mobilenet_width": 0.75}),
    ("mobilenet_v3_small", {"mobilenet_minimalistic": True}),
])
def test_mobilenet_options_reach_the_backbone(name, changes):
    require_backend(name)
    plain = build_model(small_options(name), "meta")
    changed = build_model(small_options(name, **changes), "meta")
    assert counts(changed.encoder.backbone) != counts(plain.encoder.backbone)


def test_mobilenet_depth_multiplier_widens_every_depthwise_conv():
    require_backend("mobilenet")
    model = build_model(small_options("mobilenet", mobilenet_depth=3), "meta")
    depthwise = [m for n, m in model.encoder.backbone.named_modules() if n.endswith("conv_dw")]
    assert len(depthwise) == 13
    assert all(m.out_channels == 3 * m.in_channels for m in depthwise)


@pytest.mark.parametrize("name, expected", [
    ("vgg16", [0.0, 0.0, 255.0]),            # BGR, 0–255: red moves to the last channel
    ("clipv_vit-b-32", [1.0, 0.0, 0.0]),     # RGB, [0, 1] unchanged
    ("resnet50", [1.0, -1.0, -1.0]),         # RGB, [−1, 1]
])
def test_encoder_maps_unit_rgb_input_to_the_backbone_range(name, expected):
    require_backend(name)
    model = build_model(small_options(name), "meta")
    red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
    assert model.encoder.mapping(red).view(3).tolist() == expected


# --- `timm:<model>` ----------------------------------------------------------------------
def test_any_timm_model_builds_as_a_feature_encoder():
    require_backend("timm:resnet18")
    model = build_model(small_options("timm:resnet18", enc_scaling=50), "meta")
    assert model.input_size == 112
    assert model.design.feature_shape == (512, 4, 4)
    assert model.design.encoder_spec.input_range == "unit"


def test_timm_transformer_is_pooled_to_a_vector_at_any_size():
    require_backend("timm:vit_tiny_patch16_224")
    options = small_options("timm:vit_tiny_patch16_224", enc_scaling=50,
                            bottleneck_type="flatten")
    model = build_model(options, "meta")
    assert (model.input_size, model.design.feature_shape) == (112, (192,))


def test_unknown_timm_model_is_a_config_error():
    require_backend("timm:x")
    with pytest.raises(ConfigError, match="timm has no model 'resnet_nope'"):
        build_model(small_options("timm:resnet_nope"), "meta")


def test_unknown_name_lists_the_choices_and_the_timm_prefix():
    with pytest.raises(ConfigError, match=r"fs_original.*timm:<name>"):
        ENCODERS.get_entry("resnet_nope")


# --- without timm --------------------------------------------------------------------------
def test_timm_backbones_fail_clearly_without_timm(monkeypatch):
    monkeypatch.setitem(sys.modules, "timm", None)      # `import timm` now raises ImportError
    with pytest.raises(ConfigError, match="needs timm.*install_backbones.sh"):
        build_model(small_options("efficientnet_b0"), "meta")


def test_phaze_imports_and_builds_fs_original_without_timm():
    script = ("import sys; sys.modules['timm'] = None; sys.modules['torchvision'] = None\n"
              "from phaze.config.options import PhazeAOptions\n"
              "from phaze.model.phaze_a import build_model\n"
              "build_model(PhazeAOptions(), 'meta')\n"
              "from phaze.model.encoders import ENCODERS\n"
              "assert len(ENCODERS.names()) == 47\n")
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)
