"""`phaze reuse`: recipes from the design, fair starts, held-out faces, freezing, resume."""
from __future__ import annotations

import json
import shutil

import pytest
import torch

from phaze.storage.checkpoint import has_checkpoint, load_checkpoint
from phaze.config.parse import options_from_mapping
from phaze.errors import ConfigError
from phaze.train.reuse import ReuseConfig, derive_recipes, run_reuse
from phaze.train.reuse.fingerprint import first_batch_digest, submodel_digests
from phaze.train.reuse.run import prepare, recipe_dir, recipe_trainer


class NoFaceRecognizer:
    """Synthetic faces are cartoons dlib finds no face in; this says so without loading dlib."""

    def read(self, face):
        return None


@pytest.fixture(scope="module")
def old_model(trained_split_model):
    """The old model (old A + B)."""
    return trained_split_model


@pytest.fixture(scope="module")
def reuse_config(old_model, synthetic_faces, fast_trainer, tmp_path_factory):
    """New pair: the synthetic A and B again (the faces do not matter for these checks)."""
    def make(**changes) -> ReuseConfig:
        config = ReuseConfig(old_model=old_model, faces_a=synthetic_faces[0],
                             faces_b=synthetic_faces[1],
                             model_dir=tmp_path_factory.mktemp("reuse"), old_faces_a=None,
                             iterations=2, holdout=0.25, score_limit=4, preview_faces=2,
                             trainer=fast_trainer())
        return config.replace(**changes)
    return make


def _names(recipes) -> dict:
    return {recipe.name: recipe for recipe in recipes}


# --- recipes from the design --------------------------------------------------------------------
def test_split_fc_gblock_design_gets_its_own_fc_and_gblock_recipes(train_tiny):
    options = options_from_mapping(dict(train_tiny, split_fc=True, enable_gblock=True,
                                        split_gblock=False))

    recipes, skipped = derive_recipes(options)

    by_name, reasons = _names(recipes), {s.name: s.reason for s in skipped}
    assert by_name["enc+fc_b"].load == ("encoder", "fc_b")
    assert "split_fc" in reasons["enc+fc_shared"]
    assert by_name["b-side"].load == ("encoder", "fc_b", "decoder_b")   # G-Block left fresh
    assert by_name["b-side+gblock"].load == ("encoder", "fc_b", "fc_gblock", "g_block_both",
                                             "decoder_b")
    assert by_name["b-side+gblock-frozen"].freeze == ("fc_gblock", "g_block_both")
    # All but A's own parts (fc_a, decoder_a) is B's side with the G-Block here.
    assert "'b-side+gblock'" in reasons["all-but-a"]
    assert by_name["scratch"].load == () and by_name["enc-frozen"].freeze == ("encoder",)


def test_shared_fc_design_skips_what_it_cannot_have_with_a_reason(train_tiny):
    options = options_from_mapping(dict(train_tiny, split_fc=False, enable_gblock=False))

    recipes, skipped = derive_recipes(options)

    by_name, reasons = _names(recipes), {s.name: s.reason for s in skipped}
    assert by_name["enc+fc_shared"].load == ("encoder", "fc_both")
    assert "split_fc is off" in reasons["enc+fc_b"]
    assert "enable_gblock is off" in reasons["b-side+gblock"]
    assert "enable_gblock is off" in reasons["b-side+gblock-frozen"]
    # Without a G-Block, everything but A's decoder is exactly B's side.
    assert "'b-side'" in reasons["all-but-a"]
    assert set(by_name) == {"scratch", "enc", "enc-frozen", "enc+fc_shared", "b-side"}


def test_half_shared_fc_counts_fc_a_as_shared_not_as_a_own(train_tiny):
    options = options_from_mapping(dict(train_tiny, split_fc=True, shared_fc="half"))

    recipes, _ = derive_recipes(options)

    assert _names(recipes)["enc+fc_shared"].load == ("encoder", "fc_a")
    assert "fc_a" in _names(recipes)["b-side"].load


def test_a_subset_always_includes_the_baseline_and_unknown_names_are_refused(train_tiny):
    options = options_from_mapping(train_tiny)

    recipes, _ = derive_recipes(options, ["enc-frozen"])

    assert [r.name for r in recipes] == ["scratch", "enc-frozen"]
    with pytest.raises(ConfigError, match="'enc_frozen' not known; expected names from: "
                                          "scratch, enc, enc-frozen"):
        derive_recipes(options, ["enc_frozen"])


# --- fair comparison ----------------------------------------------------------------------------
def test_every_recipe_starts_from_the_same_weights_and_stream(reuse_config, old_model):
    experiment = prepare(reuse_config(recipes=("enc-frozen", "enc+fc_b", "b-side")))
    old = load_checkpoint(old_model, with_optimizer=False).weights
    starts, streams = {}, set()

    for recipe in experiment.recipes:
        trainer = recipe_trainer(experiment, recipe)
        names = list(trainer.model.submodels())
        starts[recipe.name] = (recipe, submodel_digests(trainer.model.state_dict(), names))
        streams.add(first_batch_digest(trainer))

    old_digests = submodel_digests(old, list(starts["scratch"][1]))
    fresh = starts["scratch"][1]
    for recipe, digests in starts.values():
        for name, digest in digests.items():
            assert digest == (old_digests[name] if name in recipe.load else fresh[name]), \
                (recipe.name, name)
    assert old_digests["encoder"] != fresh["encoder"]   # loading is visible at all
    assert len(streams) == 1


def test_held_out_faces_are_never_trained_on(reuse_config):
    experiment = prepare(reuse_config(recipes=("enc",)))

    trainer = recipe_trainer(experiment, experiment.recipes[0])

    for side in ("a", "b"):
        held_out = {path.name for path in experiment.splits[side].held_out}
        assert len(held_out) == 4   # 25 % of 16
        assert not held_out & set(trainer.facesets[side].names)
        assert len(trainer.facesets[side].names) == 12


# --- a whole run, interrupted and resumed ------------------------------------------------------
@pytest.fixture(scope="module")
def finished(reuse_config):
    """Stopped during the second recipe, then run again to the end (keeping every model)."""
    config = reuse_config(recipes=("enc-frozen", "enc+fc_b"), keep_all=True)

    def stop_in_enc_frozen(recipe, progress):
        return False if recipe == "enc-frozen" else None

    with pytest.raises(KeyboardInterrupt):
        run_reuse(config, on_progress=stop_in_enc_frozen, recognizer=NoFaceRecognizer())
    results = config.model_dir / "results"
    after_stop = {path.name: path.read_bytes() for path in results.glob("*.json")}
    report = run_reuse(config, recognizer=NoFaceRecognizer(), command="phaze reuse --again")
    return config, after_stop, report


def test_interrupt_keeps_finished_recipes_and_a_rerun_finishes_the_rest(finished):
    config, after_stop, report = finished
    results = config.model_dir / "results"

    assert set(after_stop) == {"scratch.json"}          # only the finished recipe was kept
    assert (results / "scratch.json").read_bytes() == after_stop["scratch.json"]  # not redone
    assert {r["recipe"] for r in report["ranking"]} == {"scratch", "enc-frozen", "enc+fc_b"}
    assert all(r["iterations"] == 2 for r in report["ranking"])


def test_a_rerun_with_other_settings_is_refused(finished):
    config, _, _ = finished

    with pytest.raises(ConfigError, match="iterations: 3 now, 2 before"):
        run_reuse(config.replace(iterations=3), recognizer=NoFaceRecognizer())


def test_a_run_writes_the_ranked_report_and_sheet(finished):
    config, _, report = finished

    assert report["checks"] == {"same_stream": True, "same_start": True}
    saved = json.loads((config.model_dir / "reuse.json").read_text())
    assert [r["recipe"] for r in saved["ranking"]] == [r["recipe"] for r in report["ranking"]]
    assert [r["rank"] for r in saved["ranking"]] == [1, 2, 3]
    written = (config.model_dir / "reuse.md").read_text()
    assert "| rank | recipe |" in written and "Command: `phaze reuse --again`" in written
    assert (config.model_dir / "reuse.png").stat().st_size > 0
    # No face found in cartoons: identity figures are reported missing, never invented.
    assert saved["ranking"][0]["figures"]["directions"]["a-to-b"]["identity_share"] is None


def test_frozen_parts_are_bit_identical_after_training(finished, old_model):
    config, _, _ = finished
    old = load_checkpoint(old_model, with_optimizer=False).weights
    frozen = load_checkpoint(recipe_dir(config, "enc-frozen"), with_optimizer=False).weights
    trainable = load_checkpoint(recipe_dir(config, "enc+fc_b"), with_optimizer=False).weights

    encoder = [key for key in old if key.startswith("encoder.")]
    assert encoder and all(torch.equal(frozen[key], old[key]) for key in encoder)
    assert not all(torch.equal(trainable[key], old[key]) for key in encoder)


def test_without_keep_all_only_the_best_model_is_kept(finished, tmp_path):
    config, _, _ = finished
    copy = config.replace(model_dir=tmp_path / "experiment", keep_all=False)
    shutil.copytree(config.model_dir, copy.model_dir)   # the fixture's folders stay whole

    report = run_reuse(copy, recognizer=NoFaceRecognizer())   # all finished: only re-ranks

    kept = {path.name for path in (copy.model_dir / "recipes").iterdir()}
    assert kept == {report["best"]} and has_checkpoint(recipe_dir(copy, report["best"]))


# --- the command line ---------------------------------------------------------------------------
@pytest.mark.parametrize("flags, message", [
    (["--recipes", "enc,bogus"], "reuse option 'recipes': 'bogus' not known; expected names "
                                 "from: scratch"),
    (["--holdout", "1.5"], "reuse option 'holdout' = 1.5 is invalid"),
])
def test_cli_refuses_bad_settings_in_one_line(old_model, synthetic_faces, tmp_path, capsys,
                                              flags, message):
    from phaze.cli.main import main

    code = main(["reuse", "--from", str(old_model), "--faces-a", str(synthetic_faces[0]),
                 "--faces-b", str(synthetic_faces[1]), "--model-dir", str(tmp_path / "x")]
                + flags)

    error = capsys.readouterr().err.strip()
    assert code == 2 and message in error and len(error.splitlines()) == 1
    assert not (tmp_path / "x").exists()   # nothing written for a refused run
