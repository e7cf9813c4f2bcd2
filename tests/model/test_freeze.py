"""Freezing sub-models by name: `keras_encoder` works for every backbone."""
import pytest
import torch

from phaze.config.presets import resolve_options
from phaze.model.encoders.timm_compat import timm_available
from phaze.model.freeze import apply_freeze, set_frozen_norms_eval
from phaze.model.phaze_a import build_model

from designs import TINY

SMALL = {**TINY, "enc_scaling": 10}


pytestmark = pytest.mark.usefixtures("one_thread")


def small_model(device=None, **changes):
    return build_model(resolve_options(overrides={**SMALL, **changes}), device)


def trainable_names(module):
    return {name for name, p in module.named_parameters() if p.requires_grad}


def test_keras_encoder_freezes_the_backbone_but_not_the_bottleneck():
    model = small_model("meta", enc_architecture="vgg16")
    assert apply_freeze(model, ["keras_encoder"]) == []
    assert not trainable_names(model.encoder.backbone)
    assert trainable_names(model.encoder.bottleneck) == {"dense.weight", "dense.bias"}
    assert trainable_names(model.decoder_both)


def test_encoder_freezes_backbone_and_bottleneck():
    model = small_model("meta", enc_architecture="vgg16")
    apply_freeze(model, ["encoder"])
    assert not trainable_names(model.encoder)


def test_keras_encoder_is_silently_dropped_for_fs_original():
    model = small_model("meta")
    assert apply_freeze(model, ["keras_encoder"]) == []
    assert all(p.requires_grad for p in model.parameters())


def test_names_missing_from_the_model_are_returned_once():
    model = small_model("meta", split_fc=False)
    assert apply_freeze(model, ["fc_a", "fc_both", "fc_a", "g_block_a"]) == ["fc_a", "g_block_a"]
    assert not trainable_names(model.fc_both)


def test_freezing_starts_from_an_all_trainable_model():
    model = small_model("meta")
    apply_freeze(model, ["decoder_both"])
    apply_freeze(model, ["fc_a"])
    assert trainable_names(model.decoder_both) and not trainable_names(model.fc_a)


def test_frozen_norms_go_to_eval_and_the_rest_keep_training():
    model = small_model("meta", enc_architecture="vgg16", dec_norm="batch")
    apply_freeze(model, ["decoder_both"])
    model.train()
    set_frozen_norms_eval(model)
    norms = [m for m in model.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and not any(m.training for m in norms)
    model.encoder.requires_grad_(True)
    apply_freeze(model, [])
    model.train()
    set_frozen_norms_eval(model)
    assert all(m.training for m in norms)


@pytest.mark.parametrize("name", ["mobilenet_v3_small", "clipv_vit-b-32"])
def test_frozen_backbone_and_its_statistics_do_not_change_while_the_rest_trains(name):
    if name != "clipv_vit-b-32":
        timm_available()
        pytest.importorskip("timm")
    torch.manual_seed(0)
    model = small_model(enc_architecture=name, bottleneck_type="flatten"
                        if name.startswith("clipv") else "dense")
    apply_freeze(model, ["keras_encoder"])
    before = {k: v.clone() for k, v in model.encoder.backbone.state_dict().items()}
    first_fc = next(p for p in model.fc_a.parameters()).detach().clone()
    optimiser = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    size = model.input_size
    for _ in range(3):
        model.train()
        set_frozen_norms_eval(model)
        faces = torch.rand(2, 3, size, size)
        outputs = model(faces, faces.flip(0))
        loss = sum(((o - 0.5) ** 2).mean() for o in outputs)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    after = model.encoder.backbone.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)   # incl. running stats
    assert not torch.equal(first_fc, next(p for p in model.fc_a.parameters()))
