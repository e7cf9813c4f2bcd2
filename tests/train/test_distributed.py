"""Training on two processes (gloo, CPU) through `phaze train --nproc 2`, as a user runs it.

Every process gets a `sitecustomize` (on PYTHONPATH) that records its pid and every file it
creates, renames or opens for writing, so the tests can tell which rank wrote what and kill one.
"""
from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import torch

from bf16_tolerance import BF16_STEP

from phaze.storage.checkpoint import load_checkpoint
from phaze.cli.main import main
from phaze.config.parse import options_from_mapping
from phaze.model.phaze_a import build_model
from phaze.train.distributed import World
from phaze.train.launch import without_nproc

SRC = Path(__file__).resolve().parents[2] / "src"

AUDIT = textwrap.dedent('''
    import os, sys, json
    _dir = os.environ.get("PHAZE_TEST_AUDIT")
    if _dir and "RANK" in os.environ:
        _log = open(os.path.join(_dir, "rank%s.jsonl" % os.environ["RANK"]), "a", buffering=1)
        _log.write(json.dumps({"pid": os.getpid()}) + "\\n")
        def _hook(event, args):
            if event == "open" and args[0] is not _log.name and isinstance(args[0], str) \\
                    and (set(str(args[1] or "")) & set("wax+")):
                _log.write(json.dumps({"event": event, "path": args[0]}) + "\\n")
            elif event in ("os.mkdir", "os.rename", "os.remove", "shutil.rmtree"):
                _log.write(json.dumps({"event": event, "path": str(args[0])}) + "\\n")
        sys.addaudithook(_hook)
''')


def _config(path: Path, design: dict, optimizer: str = "sgd", **trainer) -> Path:
    settings = {"batch_size": 4, "save_interval": 1000, "preview_interval": 1000,
                "log_interval": 1, "preview_faces": 2, "workers": 0, "device": "cpu",
                "tensorboard": False, "threads": 1, "mixed_precision": "off", **trainer}
    lines = [f"{name} = {json.dumps(value)}" for name, value in design.items()]
    lines += ["[trainer]"] + [f"{k} = {json.dumps(v)}" for k, v in settings.items()]
    lines += ["[trainer.augment]", "warp = false", "color = false",
              # Plain SGD with a large step: weights move by -lr × the averaged gradient, so a
              # gradient that was not averaged shows, and Adam's normalisation (which turns
              # rounding-level differences at ReLU kinks into whole steps) is out of the way.
              "[trainer.optimizer]", f'name = "{optimizer}"',
              f"learning_rate = {0.1 if optimizer == 'sgd' else 1e-3}"]
    path.write_text("\n".join(lines) + "\n")
    return path


def _train_args(faces, model_dir: Path, config: Path, iterations: int) -> list[str]:
    return ["train", "--faces-a", str(faces[0]), "--faces-b", str(faces[1]),
            "--model-dir", str(model_dir), "--config", str(config),
            "--iterations", str(iterations)]


def _launch(args: list[str], audit: Path) -> subprocess.Popen:
    audit.mkdir(exist_ok=True)
    (audit / "sitecustomize.py").write_text(AUDIT)
    env = dict(os.environ, PYTHONPATH=f"{audit}{os.pathsep}{SRC}", PHAZE_TEST_AUDIT=str(audit))
    env.pop("WORLD_SIZE", None)
    return subprocess.Popen([sys.executable, "-m", "phaze", *args, "--nproc", "2"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def _run_two(args: list[str], audit: Path, timeout: float = 300) -> str:
    process = _launch(args, audit)
    try:
        out, _ = process.communicate(timeout=timeout)
    finally:
        _stop(process, audit)
    assert process.returncode == 0, out
    return out


def _stop(process: subprocess.Popen, audit: Path) -> None:
    """Leave no process behind, whatever happened (the launcher's workers included)."""
    process.kill()
    process.wait()
    for rank in (0, 1):
        for record in _records(audit, rank)[:1]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(record["pid"], signal.SIGKILL)


def _records(audit: Path, rank: int) -> list[dict]:
    path = audit / f"rank{rank}.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def _weights(model_dir: Path) -> dict[str, torch.Tensor]:
    return load_checkpoint(model_dir).weights


# How far apart (relative to how far the weights moved) two runs of the same training may end.
# float32: 2 %. Not float rounding: a fresh model's zero biases leave some pre-activations
# exactly at a ReLU kink, where a batch of 4 and two batches of 2 round to different sides, so
# a few gradients differ by a whole slope (a single process shows this too). bf16 autocast adds
# its own rounding: each bf16 rounding moves a value by up to BF16_STEP (0.39 %) of it, and
# the sums of a batch split in two round differently through every layer and step (2.75 % was
# seen on fc_both): 16 rounding steps, 6.25 %. A gradient that was not averaged over the
# processes is off by about as much as the gradient itself (~100 %), far above either.
TOLERANCE = {"off": 0.02, "bf16": 16 * BF16_STEP}


def _assert_same_training(left: dict, right: dict, design: dict, precision: str) -> None:
    """Per sub-model, the two runs moved the weights the same way, to TOLERANCE[precision] of
    how far they moved."""
    torch.manual_seed(0)   # the trainer's seed: the model both runs started from
    initial = build_model(options_from_mapping(design)).state_dict()
    assert left.keys() == right.keys() == initial.keys()
    for submodel in {name.split(".")[0] for name in initial}:
        names = [name for name in initial if name.split(".")[0] == submodel]
        moved = sum(((right[n] - initial[n]) ** 2).sum() for n in names).sqrt()
        apart = sum(((left[n] - right[n]) ** 2).sum() for n in names).sqrt()
        assert moved > 1e-3, submodel
        assert apart < TOLERANCE[precision] * moved, (submodel, float(apart / moved))


@pytest.fixture(scope="module", params=[("ddp", "off"), ("fsdp", "off"), ("ddp", "bf16"),
                                        ("fsdp", "bf16")],
                ids=["ddp-float32", "fsdp-float32", "ddp-bf16", "fsdp-bf16"])
def two_process_run(request, tmp_path_factory, synthetic_faces, train_tiny):
    """3 iterations on 2 processes (2 faces per side each), and the same on one process, in
    the precision given (pinned: "auto" would depend on the CPU)."""
    parallel, precision = request.param
    root = tmp_path_factory.mktemp(f"{parallel}-{precision}")
    config = _config(root / "tiny.toml", train_tiny, parallel=parallel,
                     mixed_precision=precision)
    output = _run_two(_train_args(synthetic_faces, root / "ddp", config, 3), root / "audit")
    assert main(_train_args(synthetic_faces, root / "single", config, 3)) == 0
    return root, config, output, precision


def test_two_processes_train_the_weights_one_process_trains(two_process_run, train_tiny):
    root, _, output, precision = two_process_run

    assert "over 2 processes" in output
    assert load_checkpoint(root / "ddp").state.iteration == 3
    _assert_same_training(_weights(root / "ddp"), _weights(root / "single"), train_tiny,
                          precision)


def test_only_rank_0_writes_files(two_process_run):
    root, _, _, _ = two_process_run
    model_dir = str(root / "ddp")
    writes = {rank: [r["path"] for r in _records(root / "audit", rank) if "path" in r]
              for rank in (0, 1)}

    assert any(path.startswith(model_dir) for path in writes[0])   # the audit sees writes
    assert [path for path in writes[1] if path.startswith(model_dir)] == []


@pytest.mark.parametrize("first, second", [("two", "one"), ("one", "two")])
def test_a_checkpoint_resumes_across_process_counts_on_the_same_stream(
        two_process_run, synthetic_faces, tmp_path, train_tiny, first, second):
    root, config, _, precision = two_process_run
    model_dir = tmp_path / "model"
    for step, (count, iterations) in enumerate(((first, 2), (second, 1))):
        args = _train_args(synthetic_faces, model_dir, config, iterations)
        if count == "two":
            _run_two(args, tmp_path / f"audit{step}")
        else:
            assert main(args) == 0

    assert load_checkpoint(model_dir).state.iteration == 3
    # 2 + 1 iterations, resumed at batch 2 of the stream: the uninterrupted 3-iteration run.
    _assert_same_training(_weights(model_dir), _weights(root / "single"), train_tiny, precision)


def test_a_sharded_run_saves_the_full_adam_state_and_resumes_from_it(synthetic_faces, tmp_path,
                                                                    train_tiny):
    model_dir = tmp_path / "model"
    config = _config(tmp_path / "tiny.toml", train_tiny, optimizer="adam", parallel="fsdp")
    _run_two(_train_args(synthetic_faces, model_dir, config, 2), tmp_path / "audit0")
    saved = load_checkpoint(model_dir)
    shapes = {name: tensor.shape for name, tensor in saved.weights.items()}
    order = saved.state.extra["optimizer_params"]

    assert len(saved.optimizer["state"]) == len(order) > 0
    for index, values in saved.optimizer["state"].items():   # full tensors, not shards
        assert values["exp_avg"].shape == values["exp_avg_sq"].shape == shapes[order[index]]

    _run_two(_train_args(synthetic_faces, model_dir, config, 1), tmp_path / "audit1")
    resumed = load_checkpoint(model_dir)
    assert resumed.state.iteration == 3
    step = resumed.optimizer["state"][0]["step"]
    assert float(step) == 3.0   # the restored moments were stepped on, not started afresh


@pytest.mark.parametrize("parallel", ["ddp", "fsdp"])
def test_killing_one_rank_stops_the_other_and_keeps_the_checkpoint(synthetic_faces, tmp_path,
                                                                  train_tiny, parallel):
    model_dir, audit = tmp_path / "model", tmp_path / "audit"
    config = _config(tmp_path / "tiny.toml", train_tiny, save_interval=2, parallel=parallel)
    process = _launch(_train_args(synthetic_faces, model_dir, config, 100000), audit)
    try:
        deadline = time.monotonic() + 240
        while not (model_dir / "checkpoint").is_dir() and process.poll() is None:
            assert time.monotonic() < deadline, "no checkpoint was written"
            time.sleep(0.2)
        os.kill(_records(audit, 1)[0]["pid"], signal.SIGKILL)
        out, _ = process.communicate(timeout=120)
    finally:
        _stop(process, audit)

    assert process.returncode == 2, out
    assert "training process rank 1" in out and "SIGKILL" in out
    assert load_checkpoint(model_dir).state.iteration >= 2
    assert not (model_dir / "checkpoint.tmp").exists()


def test_a_batch_that_does_not_split_over_the_processes_is_refused():
    with pytest.raises(ValueError, match=r"'batch_size' = 5 is invalid for 2 processes"):
        World(rank=0, world_size=2, local_world_size=2).check_batch_size(5)


def test_torchrun_variables_are_read_and_checked():
    world = World.from_environment({"RANK": "1", "WORLD_SIZE": "2", "LOCAL_RANK": "1",
                                    "LOCAL_WORLD_SIZE": "2"})

    assert (world.rank, world.world_size, world.is_main, world.distributed) == (1, 2, False, True)
    assert World.from_environment({}) == World()
    with pytest.raises(ValueError, match="do not fit together"):
        World.from_environment({"RANK": "2", "WORLD_SIZE": "2"})


def test_workers_run_the_command_line_without_nproc():
    assert without_nproc(["train", "--nproc", "2", "--demo", "--nproc=3", "-v"]) == \
        ["train", "--demo", "-v"]
