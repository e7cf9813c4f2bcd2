"""The design endpoints give the same numbers and errors as the CLI."""
from __future__ import annotations

import json

import pytest

from phaze.config.options import OPTION_FIELDS
from phaze.config.presets import resolve_options
from phaze.model.curve import filter_curve
from phaze.train.memory import estimate_training_memory


@pytest.fixture()
def cli(capsys):
    """Run `phaze ...` in this process; returns (exit code, stdout, stderr)."""
    from phaze.cli.main import main

    def run(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


def _cli_summary(cli, *args: str) -> dict:
    code, out, _ = cli("summary", "--json", *args)
    assert code == 0
    return json.loads(out)


def _cli_error(cli, *args: str) -> str:
    code, _, err = cli("summary", *args)
    assert code == 2
    return err.strip().removeprefix("phaze: error: ")


def test_schema_lists_every_option_in_the_guides_groups(client):
    schema = client.get("/api/schema").json()
    assert schema["groups"] == ["general", "encoder", "bottleneck", "fully connected",
                                "G-Block", "decoder", "weights"]
    by_name = {o["name"]: o for o in schema["options"]}
    assert set(by_name) == set(OPTION_FIELDS)
    assert by_name["output_size"]["default"] == 128
    assert by_name["output_size"]["range"] == [64, 2048]
    assert by_name["fc_depth"]["group"] == "fully connected"
    assert "fs_original" in by_name["enc_architecture"]["choices"]
    assert all(o["help"] for o in schema["options"])


def test_summary_matches_the_cli(client, cli):
    result = client.post("/api/evaluate", json={"values": {"split_decoders": True}}).json()
    assert result["ok"]
    assert result["summary"] == _cli_summary(cli, "--set", "split_decoders=true")


def test_preset_summary_matches_the_cli(client, cli):
    values = client.post("/api/load", json={"preset": "dfaker"}).json()["values"]
    result = client.post("/api/evaluate", json={"values": values}).json()
    assert result["summary"] == _cli_summary(cli, "--preset", "dfaker")


def test_invalid_value_gives_the_cli_error_beside_the_option(client, cli):
    result = client.post("/api/evaluate", json={"values": {"output_size": "abc"}}).json()
    assert not result["ok"]
    assert result["errors"] == {"output_size": _cli_error(cli, "--set", "output_size=abc")}


def test_design_error_is_attached_to_the_options_it_names(client, cli):
    result = client.post("/api/evaluate", json={"values": {"output_size": 100}}).json()
    assert set(result["errors"]) == {"output_size"}
    assert result["errors"]["output_size"] == _cli_error(cli, "--set", "output_size=100")


def test_routes_follow_the_split_options(client):
    shared = client.post("/api/evaluate", json={"values": {}}).json()["graph"]
    split = client.post("/api/evaluate", json={"values": {"split_decoders": True}}).json()["graph"]
    names = lambda graph: {n["name"] for n in graph["nodes"]}
    assert "decoder_both" in names(shared) and "decoder_a" not in names(shared)
    assert {"decoder_a", "decoder_b"} <= names(split) and "decoder_both" not in names(split)
    assert split["routes"]["b"]["decoder"] == "decoder_b"
    assert {"from": "decoder_b", "to": "out_b", "label": ""} in split["edges"]
    assert {"from": "fc_gblock", "to": "g_block_both", "label": "style"} in split["edges"]


def test_shared_fc_routes_join_both_fc_outputs(client):
    graph = client.post("/api/evaluate", json={"values": {"shared_fc": "full",
                                                          "enable_gblock": False}}).json()["graph"]
    edges = {(e["from"], e["to"], e["label"]) for e in graph["edges"]}
    assert ("fc_a", "decoder_both", "concat") in edges
    assert ("fc_shared", "decoder_both", "concat") in edges


def test_curves_are_the_designs_filter_lists(client):
    options = resolve_options()
    curves = client.post("/api/evaluate", json={"values": {}}).json()["curves"]
    assert curves["encoder"] == [128, 256, 512, 1024]        # fs_original doubling to the cap
    assert curves["decoder"] == filter_curve(options.dec_max_filters, options.dec_min_filters,
                                             len(curves["decoder"]), options.dec_filter_slope)
    assert curves["gblock"] == filter_curve(512, 512, 3, -0.5)
    off = client.post("/api/evaluate", json={"values": {"enable_gblock": False}}).json()
    assert off["curves"]["gblock"] == []


def test_memory_estimate_matches_the_library(client, train_tiny):
    values = dict(train_tiny)
    result = client.post("/api/evaluate", json={"values": values, "batch_size": 8}).json()
    expected = estimate_training_memory(resolve_options(overrides=values), 8)
    assert result["memory_estimate"] == expected
    bad = client.post("/api/evaluate", json={"values": values, "batch_size": 0}).json()
    assert "batch size = 0 is invalid" in bad["memory_estimate"]["error"]


def test_save_then_load_gives_the_same_options(client, ui_folder, train_tiny):
    values = dict(train_tiny, split_decoders=False, dec_filter_slope=-0.3)
    saved = client.post("/api/save", json={"values": values, "path": "designs/tiny.toml",
                                           "description": "tiny"}).json()
    path = ui_folder / "designs" / "tiny.toml"
    assert saved["path"] == str(path) and path.read_text().startswith("# tiny")
    loaded = client.post("/api/load", json={"path": "designs/tiny.toml"}).json()["values"]
    assert loaded == resolve_options(overrides=values).to_dict()
    assert not list(path.parent.glob("*.tmp"))


def test_save_refuses_an_invalid_design(client, ui_folder):
    response = client.post("/api/save", json={"values": {"fc_depth": "x"}, "path": "bad.toml"})
    assert response.status_code == 400 and "fc_depth" in response.json()["error"]
    assert not (ui_folder / "bad.toml").exists()


def test_unknown_preset_is_a_clear_error(client):
    response = client.post("/api/load", json={"preset": "dfakr"})
    assert response.status_code == 400 and "did you mean 'dfaker'" in response.json()["error"]
