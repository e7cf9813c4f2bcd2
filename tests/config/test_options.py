"""Option parsing and validation: every user error names the option, value and what is allowed."""
import pytest

from phaze.config.options import PhazeAOptions
from phaze.config.parse import coerce_option, options_from_mapping, parse_set_pairs
from phaze.config.presets import (get_preset, list_presets, read_config_file, resolve_options,
                                  save_preset)
from phaze.errors import ConfigError


def test_defaults_match_faceswap():
    options = PhazeAOptions()
    assert (options.output_size, options.enc_scaling, options.dec_filter_slope) == (128, 7, -0.45)
    assert options.freeze_layers == ("keras_encoder",) and options.load_layers == ("encoder",)


def test_unknown_option_suggests_closest_name():
    with pytest.raises(ConfigError, match=r"unknown option 'fc_depht'; did you mean 'fc_depth'"):
        options_from_mapping({"fc_depht": 2})


@pytest.mark.parametrize("name, value, allowed", [
    ("output_size", 4000, "an integer from 64 to 2048"),
    ("fc_depth", 1.5, "an integer from 0 to 16"),
    ("fc_dropout", "lots", "a number from 0.0 to 0.99"),
    ("split_fc", "maybe", "true or false"),
    ("dec_norm", "weight", "one of: none, batch, group, instance, layer, rms"),
    ("freeze_layers", "fc_c", "expected one of: encoder, keras_encoder"),
    ("enable_gblock", 1.0, "true or false"),
])
def test_bad_value_names_option_value_and_allowed(name, value, allowed):
    with pytest.raises(ConfigError) as error:
        coerce_option(name, value)
    message = str(error.value)
    assert name in message and repr(value).strip("'") in message and allowed in message


def test_set_strings_are_coerced_to_types():
    options = options_from_mapping(parse_set_pairs(
        ["output_size=256", "split_fc=false", "fc_filter_slope=-0.25",
         "freeze_layers=encoder, fc_a encoder"]))
    assert options.output_size == 256 and options.split_fc is False
    assert options.fc_filter_slope == -0.25 and options.freeze_layers == ("encoder", "fc_a")


def test_off_step_values_are_accepted():
    # presets rely on values off the GUI step (faceswap defect 20, docs/faceswap-differences.md)
    assert coerce_option("dec_max_filters", 504) == 504


@pytest.mark.parametrize("pair", ["output_size", "=3", "  =x"])
def test_malformed_set_pair_is_rejected(pair):
    with pytest.raises(ConfigError, match="name=value"):
        parse_set_pairs([pair])


def test_all_seventeen_presets_ship_with_descriptions():
    presets = list_presets()
    assert len(presets) >= 17
    assert all(preset.description for preset in presets)
    assert {"original", "iae", "dfl-sae-liae", "stojo", "sym384", "dny1024",
            "clipfaker448"} <= {p.name for p in presets}


def test_preset_values_are_applied():
    options = resolve_options("original")
    assert (options.output_size, options.split_decoders, options.enable_gblock) == (64, True, False)


def test_unknown_preset_suggests_closest():
    with pytest.raises(ConfigError, match="did you mean 'original'"):
        get_preset("orignal")


def test_saved_preset_loads_back_identically(tmp_path):
    options = resolve_options("dfl-sae-liae", overrides={"fc_dropout": 0.25,
                                                         "freeze_layers": "encoder,fc_a"})
    path = save_preset(options, tmp_path / "mine.toml", "my LIAE")
    assert path.read_text().startswith("# my LIAE")
    assert resolve_options(config=path) == options


def test_config_file_errors_are_clear(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        read_config_file(tmp_path / "missing.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("output_size = = 3")
    with pytest.raises(ConfigError, match="not valid TOML"):
        read_config_file(broken)
    typo = tmp_path / "typo.toml"
    typo.write_text("outputsize = 64\n")
    with pytest.raises(ConfigError, match="did you mean 'output_size'"):
        resolve_options(config=typo)
