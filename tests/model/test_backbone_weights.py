"""Pretrained backbone weights from local files only: round trips, layouts and clear errors."""
import pytest
import torch
from safetensors.torch import save_file

from phaze.config.presets import resolve_options
from phaze.errors import WeightsError
from phaze.model.encoders.timm_compat import timm_available
from phaze.model.encoders.weights import WEIGHTS_DIR_ENV, load_state_into
from phaze.model.phaze_a import build_model

from designs import TINY

SMALL = {**{k: v for k, v in TINY.items() if k != "enc_load_weights"},
         "enc_scaling": 10}


pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def empty_weights_dir(tmp_path, monkeypatch):
    """Never look at the user's real cache folder."""
    folder = tmp_path / "weights"
    folder.mkdir()
    monkeypatch.setenv(WEIGHTS_DIR_ENV, str(folder))
    return folder


def needs_timm():
    timm_available()
    pytest.importorskip("timm")


def options(name, **changes):
    return resolve_options(overrides={**SMALL, "enc_architecture": name, **changes})


def saved_backbone(model, path):
    state = {k: v.detach().clone().contiguous() for k, v in
             model.encoder.backbone.state_dict().items()}
    if path.suffix == ".safetensors":
        save_file(state, str(path))
    else:
        torch.save(state, path)
    return state


def assert_backbone_equals(model, state):
    loaded = model.encoder.backbone.state_dict()
    assert loaded.keys() == state.keys()
    assert all(torch.equal(loaded[k], state[k]) for k in state)


def test_safetensors_file_round_trips_into_the_backbone(tmp_path):
    needs_timm()
    torch.manual_seed(0)
    source = build_model(options("mobilenet_v3_small"))
    source.encoder.backbone.net.bn1.running_mean.fill_(0.5)   # statistics travel too
    state = saved_backbone(source, tmp_path / "mnv3.safetensors")
    torch.manual_seed(1)
    model = build_model(options("mobilenet_v3_small"), pretrained=True,
                        weights_path=tmp_path / "mnv3.safetensors")
    assert_backbone_equals(model, state)


def test_torch_state_dict_is_found_in_the_cache_folder(empty_weights_dir):
    torch.manual_seed(0)
    state = saved_backbone(build_model(options("vgg16")), empty_weights_dir / "vgg16.pt")
    torch.manual_seed(1)
    model = build_model(options("vgg16"), pretrained=True)
    assert_backbone_equals(model, state)


def test_torchvision_vgg_layout_loads_by_dropping_its_prefix(tmp_path):
    model = build_model(options("vgg16"))
    upstream = {f"features.{k}": torch.full_like(v, 0.25)
                for k, v in model.encoder.backbone.state_dict().items()}
    upstream["classifier.0.weight"] = torch.zeros(4, 4)     # ignored: not in the backbone
    torch.save(upstream, tmp_path / "vgg16-torchvision.pth")
    report = load_state_into(model.encoder.backbone, upstream, tmp_path / "x.pth")
    assert len(report.loaded) == 26 and report.unused == ["classifier.0.weight"]
    assert torch.all(model.encoder.backbone[0].weight == 0.25)


def test_bare_timm_file_fills_the_efficientnet_input_statistics(tmp_path):
    needs_timm()
    model = build_model(options("efficientnet_b0"))
    bare = {k.removeprefix("net."): v.clone() for k, v in
            model.encoder.backbone.state_dict().items() if k.startswith("net.")}
    save_file(bare, str(tmp_path / "tf_efficientnet_b0.safetensors"))
    pretrained = build_model(options("efficientnet_b0"), pretrained=True,
                             weights_path=tmp_path / "tf_efficientnet_b0.safetensors")
    statistics = pretrained.encoder.backbone.preprocess
    assert torch.allclose(statistics.mean, torch.tensor([0.485, 0.456, 0.406]))
    assert torch.allclose(statistics.variance.sqrt(), torch.tensor([0.229, 0.224, 0.225]))


def test_resnet_v1_biases_missing_from_timm_files_are_not_reported(tmp_path):
    needs_timm()
    model = build_model(options("resnet50"))
    backbone = model.encoder.backbone
    bare = {k.removeprefix("net."): v for k, v in backbone.state_dict().items()
            if k not in backbone.optional_weight_keys}
    report = load_state_into(backbone, bare, tmp_path / "resnet50.safetensors")
    assert report.missing == [] and report.shape_mismatch == []


def test_clip_positional_embedding_of_another_size_is_skipped(tmp_path):
    model = build_model(options("clipv_vit-b-32", bottleneck_type="flatten"), "meta")
    state = {f"visual.{k}": torch.zeros(v.shape) for k, v in
             model.encoder.backbone.state_dict().items()}
    state["visual.positional_embedding"] = torch.zeros(50, 768)   # made for 224 px
    state["transformer.resblocks.0.ln_1.weight"] = torch.zeros(512)   # text tower: unused
    report = load_state_into(model.encoder.backbone, state, tmp_path / "ViT-B-32.pt")
    assert report.shape_mismatch == ["positional_embedding: file (50, 768) vs model (2, 768)"]
    assert "proj" in report.loaded and report.missing == []
    assert report.unused == ["transformer.resblocks.0.ln_1.weight"]


def test_missing_file_names_the_file_and_where_to_put_it(empty_weights_dir):
    with pytest.raises(WeightsError) as error:
        build_model(options("vgg19"), "meta", pretrained=True)
    message = str(error.value)
    assert str(empty_weights_dir / "vgg19.safetensors") in message
    assert WEIGHTS_DIR_ENV in message and "enc_load_weights = false" in message


def test_explicit_missing_path_is_a_weights_error(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        build_model(options("vgg16"), "meta", pretrained=True,
                    weights_path=tmp_path / "nope.safetensors")


def test_file_without_matching_tensors_is_a_weights_error(tmp_path):
    save_file({"something.else": torch.zeros(2)}, str(tmp_path / "other.safetensors"))
    with pytest.raises(WeightsError, match="holds no weights for encoder 'vgg16'"):
        build_model(options("vgg16"), "meta", pretrained=True,
                    weights_path=tmp_path / "other.safetensors")


def test_not_a_weights_file_is_a_weights_error(tmp_path):
    (tmp_path / "broken.safetensors").write_text("not weights")
    with pytest.raises(WeightsError, match="not a readable weights file"):
        build_model(options("vgg16"), "meta", pretrained=True,
                    weights_path=tmp_path / "broken.safetensors")


@pytest.mark.parametrize("changes", [{"enc_architecture": "fs_original"},
                                     {"enc_architecture": "vgg16", "enc_load_weights": False}])
def test_no_weights_are_needed_for_fs_original_or_with_loading_off(changes):
    build_model(resolve_options(overrides={**SMALL, **changes}), "meta", pretrained=True)
