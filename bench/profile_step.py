"""Where the time of one training step goes: torch.profiler over the trainer's own TrainStep.

Each op's self time is attributed to a *phase* (forward or backward of one sub-model, one loss
function, the optimiser) and a *category* (convolution, matmul, norm, copies and padding,
elementwise, Python and dispatch). Forward phases come from `record_function` ranges opened by
hooks on the sub-models, norm layers and loss functions; backward ops are attributed through
autograd's sequence numbers to the forward op that created them, so the hooks never touch the
backward graph. Shares of time (percent) are robust to a loaded machine; absolute times are not.

    PYTHONPATH=src .venv/bin/python bench/profile_step.py --presets original --steps 2

Writes a markdown table per preset (and `--json` the raw shares). A script, never a test.
"""
from __future__ import annotations

import argparse
import collections
import contextlib
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.profiler import ProfilerActivity, profile, record_function

sys.path.insert(0, str(Path(__file__).resolve().parent))
import throughput  # noqa: E402  (bench/throughput.py: the benchmark's own step and batch)

from phaze.config.presets import resolve_options  # noqa: E402
from phaze.io.devices import resolve_device  # noqa: E402
from phaze.train import losses as loss_module  # noqa: E402
from phaze.train.config import TrainerConfig  # noqa: E402
from phaze.train.optim.config import OptimizerConfig  # noqa: E402

RANGE = "phaze."  # prefix of every range this script opens
NORM_CLASSES = ("Norm", "AdaIN")  # module class names containing these count as norms
CONV_OPS = ("conv", "mkldnn_convolution")
MATMUL_OPS = ("addmm", "aten::mm", "bmm", "matmul", "linear")
COPY_OPS = ("copy_", "clone", "contiguous", "_to_copy", "aten::to", "cat", "stack", "pad",
            "reflection_pad", "replication_pad", "constant_pad", "empty_like")
OPTIMISER_OPS = ("_fused_adam", "_fused_adamw", "_foreach_")
CATEGORIES = ("conv", "matmul", "norm", "copies/pad", "elementwise/other", "optimizer kernel",
              "python/dispatch")


# --- ranges -----------------------------------------------------------------------------------
class Ranges:
    """Opens `record_function` ranges around sub-models, norm layers and loss functions."""

    def __init__(self) -> None:
        self._open: dict[int, list[Any]] = collections.defaultdict(list)
        self._handles: list[Any] = []

    def around_module(self, module: nn.Module, name: str) -> None:
        def enter(mod: nn.Module, args: Any) -> None:
            scope = record_function(name)
            scope.__enter__()
            self._open[id(mod)].append(scope)

        def leave(mod: nn.Module, args: Any, output: Any) -> None:
            self._open[id(mod)].pop().__exit__(None, None, None)

        self._handles += [module.register_forward_pre_hook(enter),
                          module.register_forward_hook(leave)]

    def remove(self) -> None:
        for handle in self._handles:
            handle.remove()


def annotate_model(model: nn.Module) -> Ranges:
    ranges = Ranges()
    for name, sub in model.submodels().items():
        ranges.around_module(sub, f"{RANGE}fwd/{name}")
    for module in model.modules():
        if any(part in type(module).__name__ for part in NORM_CLASSES):
            ranges.around_module(module, f"{RANGE}norm")
    return ranges


@contextlib.contextmanager
def annotated_losses():
    """Each registered loss function inside a `phaze.loss/<name>` range, restored after."""
    entries = loss_module.LOSS_FUNCTIONS._entries
    saved = dict(entries)

    def wrap(name: str, evaluate):
        def evaluate_in_range(prediction, target):
            with record_function(f"{RANGE}loss/{name}"):
                return evaluate(prediction, target)
        return evaluate_in_range

    for name, entry in saved.items():
        entries[name] = dataclasses.replace(entry, evaluate=wrap(name, entry.evaluate))
    try:
        yield
    finally:
        entries.clear()
        entries.update(saved)


# --- attribution ------------------------------------------------------------------------------
def _category(name: str, in_norm: bool) -> str:
    if name.startswith(RANGE) or name.startswith("Optimizer.") \
            or name.startswith("autograd::engine") or not name.startswith("aten::"):
        return "python/dispatch"  # range self time, autograd nodes: time outside any kernel
    if any(op in name for op in OPTIMISER_OPS):
        return "optimizer kernel"
    if in_norm:
        return "norm"
    if any(op in name for op in CONV_OPS):
        return "conv"
    if any(op in name for op in MATMUL_OPS):
        return "matmul"
    if any(op in name for op in COPY_OPS):
        return "copies/pad"
    return "elementwise/other"


def _ancestors(event: Any):
    while event is not None:
        yield event
        event = event.cpu_parent


def _forward_scope(event: Any) -> tuple[str | None, bool]:
    """(innermost sub-model or loss range, whether inside a norm range) of a forward op."""
    scope, in_norm = None, False
    for parent in _ancestors(event):
        if parent.name == f"{RANGE}norm":
            in_norm = True
        elif scope is None and parent.name.startswith(RANGE) and parent.name != f"{RANGE}step":
            scope = parent.name[len(RANGE):]
    return scope, in_norm


def attribute(events: list[Any]) -> dict[tuple[str, str], float]:
    """Self CPU µs per (phase, category) over every profiled event."""
    by_sequence: dict[int, tuple[str | None, bool]] = {}
    for event in events:  # forward ops that record autograd nodes carry a sequence number
        if event.sequence_nr >= 0 and not event.name.startswith("autograd::"):
            if not any(p.name.startswith("autograd::engine") for p in _ancestors(event)):
                by_sequence.setdefault(event.sequence_nr, _forward_scope(event))
    shares: dict[tuple[str, str], float] = collections.defaultdict(float)
    for event in events:
        if event.self_cpu_time_total <= 0:
            continue
        node = next((p for p in _ancestors(event)
                     if p.name.startswith("autograd::engine::evaluate_function")), None)
        optimiser = any(p.name.startswith("Optimizer.") for p in _ancestors(event))
        if optimiser:
            phase, in_norm = "optimizer", False
        elif node is not None:
            scope, in_norm = by_sequence.get(node.sequence_nr, (None, False))
            phase = "backward/" + (scope.split("/", 1)[1] if scope else "other")
            if scope and scope.startswith("loss/"):
                phase = "backward/" + scope
        else:
            scope, in_norm = _forward_scope(event)
            phase = ("forward/" + scope.split("/", 1)[1]) if scope and scope.startswith("fwd/") \
                else (scope or "step glue")
        shares[(phase, _category(event.name, in_norm))] += event.self_cpu_time_total
    return shares


# --- running ----------------------------------------------------------------------------------
def profile_preset(preset: str, batch_size: int, warmup: int, steps: int, precision: str,
                   threads: int | None, speed: Any) -> dict[str, Any]:
    if threads:
        torch.set_num_threads(threads)
    device = resolve_device("cpu")
    options = resolve_options(preset)
    config = TrainerConfig(batch_size=batch_size, mixed_precision=precision, speed=speed,
                           device="cpu", optimizer=OptimizerConfig())
    torch.manual_seed(0)
    step = throughput.build_train_step(options, device, config)
    batch = throughput.random_batch(batch_size, step.model.input_size, step.model.output_size,
                                    device, 0)
    ranges = annotate_model(step.model)
    with annotated_losses():
        for _ in range(warmup):
            step(batch)
        load = os.getloadavg()[0]
        walls = []
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(steps):
                started = time.perf_counter()
                with record_function(f"{RANGE}step"):
                    step(batch)
                walls.append(time.perf_counter() - started)
    ranges.remove()
    events = list(prof.events())
    shares = attribute(events)
    ops = collections.Counter()
    for event in events:
        ops[event.name] += event.self_cpu_time_total
    return {"preset": preset, "batch_size": batch_size, "steps": steps, "warmup": warmup,
            "threads": torch.get_num_threads(), "precision": step.parts.precision.label,
            "speed": dataclasses.asdict(step.parts.speed), "step_s": walls,
            "load_average": [load, os.getloadavg()[0]],
            "shares_us": {f"{phase}|{cat}": us for (phase, cat), us in shares.items()},
            "top_ops_us": dict(ops.most_common(25))}


def markdown(result: dict[str, Any]) -> str:
    shares: dict[tuple[str, str], float] = {tuple(key.split("|")): us
                                            for key, us in result["shares_us"].items()}
    total = sum(shares.values())
    phases = sorted({phase for phase, _ in shares}, key=_phase_order)
    used = [c for c in CATEGORIES if sum(v for (_, cat), v in shares.items() if cat == c)
            > 0.001 * total]
    head = f"| phase | {' | '.join(used)} | all |"
    lines = [f"**{result['preset']}**, batch {result['batch_size']}, {result['precision']}, "
             f"{result['threads']} threads, {result['steps']} profiled steps "
             f"(s/step under the profiler: {', '.join(f'{s:.2f}' for s in result['step_s'])}; "
             f"load {result['load_average'][0]:.1f}–{result['load_average'][1]:.1f})", "",
             head, "|" + "---|" * (len(used) + 2)]
    for phase in phases:
        row = [shares.get((phase, cat), 0.0) / total * 100 for cat in used]
        lines.append(f"| {phase} | " + " | ".join(_pct(v) for v in row)
                     + f" | **{sum(row):.1f}** |")
    column = [sum(v for (_, cat), v in shares.items() if cat == c) / total * 100 for c in used]
    lines.append("| **all** | " + " | ".join(f"**{v:.1f}**" for v in column) + " | 100 |")
    return "\n".join(lines)


def _pct(value: float) -> str:
    return "–" if value < 0.05 else f"{value:.1f}"


def _phase_order(phase: str) -> tuple[int, str]:
    for rank, prefix in enumerate(("forward/", "loss/", "backward/loss/", "backward/",
                                   "optimizer", "step glue")):
        if phase.startswith(prefix):
            return rank, phase
    return 9, phase


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="original,dfl-saehd-liae,stojo")
    parser.add_argument("--batch-size", type=int, default=16, help="per side (default 16)")
    parser.add_argument("--warmup", type=int, default=2, help="unprofiled steps first")
    parser.add_argument("--steps", type=int, default=2, help="profiled steps (default 2)")
    parser.add_argument("--precision", default="auto", choices=("auto", "off", "bf16"))
    parser.add_argument("--threads", type=int, default=None)
    throughput.add_speed_arguments(parser)
    parser.add_argument("--json", help="also write the raw shares to this JSON file")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    results = []
    for preset in [p.strip() for p in args.presets.split(",") if p.strip()]:
        result = profile_preset(preset, args.batch_size, args.warmup, args.steps,
                                args.precision, args.threads, throughput.speed_from_args(args))
        results.append(result)
        print(markdown(result), "\n", flush=True)
        top = ", ".join(f"{name} {us / 1e6 / result['steps']:.2f}"
                        for name, us in list(result["top_ops_us"].items())[:12])
        print(f"top ops (self s/step): {top}\n", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
