"""Training throughput and memory of Phaze-A presets: the real training step, timed.

For each preset and batch size a fresh Python process builds the model, runs the trainer's own
`TrainStep` (FaceLoss SSIM + MSE with landmark masks and eye/mouth loss weights, the configured
optimiser, clipping, warm-up) on augmentation-free random batches, and reports the median step
time, EGs/sec, peak memory and model FLOPs. The real data loader (synthetic faces written to a
temporary folder, full augmentation, DataLoader workers) is timed on its own, to show it keeps
up with the step.

    .venv/bin/python bench/throughput.py --presets original --batch-sizes 16 --steps 10

See bench/README.md for every option. This is a script, never a test.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch

from phaze.config.presets import resolve_options
from phaze.data.faceset import load_faceset
from phaze.data.loader import SideBatch, make_training_batches
from phaze.data.synthetic import write_faceset
from phaze.io.devices import resolve_device
from phaze.model.phaze_a import build_model
from phaze.model.summary import count_parameters
from phaze.train.config import TrainerConfig
from phaze.train.losses import FaceLoss
from phaze.train.optim.clipping import GradientClipper
from phaze.train.optim.config import MOMENT_DTYPES, OptimizerConfig
from phaze.train.optim.factory import build_optimizer, moments_label
from phaze.train.optim.warmup import warmup_scheduler
from phaze.train.precision import resolve_precision
from phaze.train.in_backward import in_backward_blocker
from phaze.train.speed import SpeedConfig, resolve_model_speed
from phaze.sides import SIDES
from phaze.train.step import StepParts, TrainStep

from face_batch import face_batch  # bench/: this script's own folder is on sys.path

DEFAULT_PRESETS = "original,lightweight,iae,dfaker"
SWITCH = {"auto": None, "on": True, "off": False}
# Environment variables that change CPU threading; recorded with every run.
THREAD_ENV = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "MKL_NUM_THREADS")


# --- memory ---------------------------------------------------------------------------------
def _status_kib(field: str) -> int:
    """A `VmRSS`/`VmHWM` line of /proc/self/status in KiB (Linux); 0 where unavailable."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def current_rss_bytes() -> int:
    return _status_kib("VmRSS") * 1024


def reset_peak_rss() -> bool:
    """Restart the kernel's peak-RSS counter (VmHWM) at the current RSS; False if not possible."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_bytes() -> int:
    """Peak RSS since the last reset (VmHWM), else since the process started (getrusage)."""
    hwm = _status_kib("VmHWM")
    if hwm:
        return hwm * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# --- the measured step ----------------------------------------------------------------------
def random_batch(batch_size: int, input_size: int, output_size: int,
                 device: torch.device, seed: int) -> dict[str, SideBatch]:
    """What the loader yields, without augmentation: random faces in [0, 1], landmark masks
    and the eye/mouth loss-weight map, so the loss does the training step's full work."""
    return face_batch(batch_size, input_size, output_size, device, seed)


def build_train_step(options: Any, device: torch.device, config: TrainerConfig) -> TrainStep:
    """The model and step exactly as the trainer builds them (loop.Trainer._step_parts)."""
    model = build_model(options, device)
    precision = resolve_precision(config.mixed_precision, device)
    losses = dataclasses.replace(config.losses, learn_mask=options.learn_mask)
    optimizer = build_optimizer(model, config.optimizer)
    parts = StepParts(
        loss=FaceLoss(losses), optimizer=optimizer,
        scheduler=warmup_scheduler(optimizer, config.optimizer.warmup_steps),
        clipper=GradientClipper(config.optimizer), scaler=precision.grad_scaler(),
        precision=precision, check_finite=config.nan_protection.enabled,
        speed=resolve_model_speed(config.speed, device, precision.dtype,
                                  in_backward_blocker(config.optimizer, precision.needs_scaler, 1),
                                  options, config.batch_size))
    model.train()
    return TrainStep(model, parts)


def _synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_steps(step: TrainStep, batch: dict[str, SideBatch], device: torch.device,
               count: int) -> tuple[list[float], list[float]]:
    """(wall seconds, process CPU seconds) of each of `count` steps.

    CPU seconds (all threads) are less disturbed by other processes than wall time on a shared
    machine: CPU s / threads estimates the step time of an idle machine.
    """
    wall, cpu = [], []
    for _ in range(count):
        started, cpu_started = time.perf_counter(), time.process_time()
        step(batch)
        _synchronize(device)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - cpu_started)
    return wall, cpu


def count_step_flops(step: TrainStep, batch: dict[str, SideBatch]) -> int:
    """FLOPs of one whole step (forward, losses, backward) as torch's FlopCounterMode counts."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        step(batch)
    return counter.get_total_flops()


def measure_preset(preset: str, batch_size: int, device_name: str, warmup: int, steps: int,
                   speed: SpeedConfig, fused: bool | None, precision: str,
                   threads: int | None, count_flops: bool = True,
                   moments: str = "auto") -> dict[str, Any]:
    """One preset at one batch size; meant to run alone in its own process."""
    if threads:
        torch.set_num_threads(threads)
    device = resolve_device(device_name)
    options = resolve_options(preset)
    config = TrainerConfig(batch_size=batch_size, mixed_precision=precision, speed=speed,
                           device=device_name,
                           optimizer=OptimizerConfig(fused=fused, moments=moments))
    reset_peak_rss()
    rss_before = current_rss_bytes()
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
    torch.manual_seed(0)
    step = build_train_step(options, device, config)
    batch = random_batch(batch_size, step.model.input_size, step.model.output_size, device, 0)
    started = time.perf_counter()
    load_before = os.getloadavg()[0]
    warmup_times, _ = time_steps(step, batch, device, warmup)
    times, cpu_times = time_steps(step, batch, device, steps)
    losses = step.meter.read()
    result = {
        "preset": preset, "batch_size": batch_size, "device": str(device),
        "device_name": _device_name(device), "threads": torch.get_num_threads(),
        "precision": step.parts.precision.label,
        "speed": dataclasses.asdict(step.parts.speed),
        "fused_optimizer": bool(step.parts.optimizer.defaults.get("fused")),
        "moments": "bfloat16" if moments_label(step.parts.optimizer) else "float32",
        "parameters": count_parameters(step.model)[0],
        "input_size": step.model.input_size, "output_size": step.model.output_size,
        "warmup_steps": warmup, "steps": steps,
        "first_step_s": warmup_times[0] if warmup_times else None,
        "setup_and_warmup_s": time.perf_counter() - started - sum(times),
        "median_step_s": statistics.median(times), "min_step_s": min(times),
        "max_step_s": max(times), "step_times_s": [round(t, 4) for t in times],
        "egs_per_s": batch_size * 2 / statistics.median(times),
        "median_cpu_s": statistics.median(cpu_times),
        "load_average": [load_before, os.getloadavg()[0]],
        "final_loss": losses.get("a", float("nan")) + losses.get("b", float("nan")),
        "rss_before_build_bytes": rss_before, "peak_rss_bytes": peak_rss_bytes(),
    }
    result["peak_rss_above_baseline_bytes"] = result["peak_rss_bytes"] - rss_before
    if device.type == "cuda":
        result["cuda_max_allocated_bytes"] = torch.cuda.max_memory_allocated(device)
        result["cuda_max_reserved_bytes"] = torch.cuda.max_memory_reserved(device)
    if not count_flops:
        return result
    try:
        flops = count_step_flops(step, batch)
        result["flops_per_step"] = flops
        result["achieved_flops_per_s"] = flops / result["median_step_s"]
    except Exception as error:  # a compiled step may not be countable; report, don't fail
        result["flops_error"] = f"{type(error).__name__}: {error}"
    return result


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return platform.processor() or platform.machine()


# --- the data loader alone ------------------------------------------------------------------
def measure_loader(preset: str, batch_size: int, workers: int, batches: int,
                   faces: int) -> dict[str, Any]:
    """The real loader (augmentation on) on synthetic faces: batches and EGs per second."""
    options = resolve_options(preset)
    model = build_model(options, "meta")
    size_px = max(model.input_size, model.output_size)
    config = TrainerConfig(batch_size=batch_size, workers=workers)
    count = max(faces, batch_size)
    with tempfile.TemporaryDirectory(prefix="phaze-bench-") as folder:
        sets = {}
        for side in SIDES:
            write_faceset(Path(folder) / side, side, count, size_px=size_px)
            sets[side] = load_faceset(Path(folder) / side, side, batch_size, size_px)
        stream = make_training_batches(sets["a"], sets["b"], model.input_size,
                                       model.output_size, batch_size, config.augment, workers)
        per_second = batches_per_second(stream, workers, batches)
        del stream
    return {"preset": preset, "batch_size": batch_size, "workers": workers,
            "batches": batches, "face_size_px": size_px,
            "batches_per_s": per_second, "egs_per_s": per_second * batch_size * 2}


def batches_per_second(stream: Iterator[Any], workers: int, batches: int) -> float:
    """Rate of `batches` from the trainer's batch stream once its workers have started."""
    for _ in range(max(2, workers * 2)):  # start the workers, fill the prefetch queue
        next(stream)
    started = time.perf_counter()
    for _ in range(batches):
        next(stream)
    return batches / (time.perf_counter() - started)


# --- orchestration --------------------------------------------------------------------------
SPEED_SWITCHES = (("channels-last", "channels_last memory format"),
                  ("compile", "torch.compile of the model"),
                  ("per-side-backward", "backward after each side's loss"),
                  ("cudnn-benchmark", "cuDNN algorithm timing (CUDA only)"),
                  ("optimizer-in-backward", "optimiser step inside one backward"),
                  ("activation-checkpointing", "recompute each block's forward in backward"),
                  ("small-convs-as-matmul", "convolutions with 4x4 outputs as matmuls"))


def add_speed_arguments(parser: argparse.ArgumentParser) -> None:
    """One --name auto|on|off flag per SpeedConfig switch."""
    for name, text in SPEED_SWITCHES:
        parser.add_argument(f"--{name}", choices=("auto", "on", "off"), default="auto",
                            help=f"{text} (default auto: the trainer's per-device choice)")


def speed_from_args(args: argparse.Namespace) -> SpeedConfig:
    return SpeedConfig(**{name.replace("-", "_"): SWITCH[getattr(args, name.replace("-", "_"))]
                          for name, _ in SPEED_SWITCHES})


def _child(args: argparse.Namespace) -> None:
    kind, preset, batch_size = args.child
    if kind == "step":
        result = measure_preset(preset, int(batch_size), args.device, args.warmup, args.steps,
                                speed_from_args(args), SWITCH[args.fused_optimizer],
                                args.precision, args.threads, args.count_flops,
                                args.moments)
    else:
        result = measure_loader(preset, int(batch_size), args.loader_workers,
                                args.loader_batches, args.loader_faces)
    print("RESULT " + json.dumps(result))


def _run_child(argv: list[str], kind: str, preset: str, batch_size: int) -> dict[str, Any]:
    command = [sys.executable, str(Path(__file__).resolve()), *argv,
               "--child", kind, preset, str(batch_size)]
    done = subprocess.run(command, capture_output=True, text=True)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT "):])
    return {"preset": preset, "batch_size": batch_size, "kind": kind,
            "error": (done.stderr or done.stdout).strip().splitlines()[-1:] or ["failed"]}


def _gib(value: float | None) -> str:
    return "-" if value is None else f"{value / 2**30:.2f}"


def format_table(steps: list[dict[str, Any]], loaders: list[dict[str, Any]]) -> str:
    header = (f"{'preset':<14}{'batch':>6}{'device':>8}{'median s':>10}{'min s':>8}{'max s':>8}"
              f"{'EGs/s':>8}{'CPU s':>8}{'load':>6}{'peak GiB':>10}{'+build GiB':>11}{'GFLOP/step':>12}"
              f"{'GFLOP/s':>9}")
    lines = [header, "-" * len(header)]
    for r in steps:
        if "error" in r:
            lines.append(f"{r['preset']:<14}{r['batch_size']:>6}  error: {r['error']}")
            continue
        peak = r.get("cuda_max_allocated_bytes", r["peak_rss_bytes"])
        above = None if "cuda_max_allocated_bytes" in r else r["peak_rss_above_baseline_bytes"]
        flops = r.get("flops_per_step")
        gflop = "-" if flops is None else f"{flops / 1e9:.1f}"
        gflops = "-" if flops is None else f"{flops / r['median_step_s'] / 1e9:.1f}"
        lines.append(
            f"{r['preset']:<14}{r['batch_size']:>6}{r['device']:>8}{r['median_step_s']:>10.3f}"
            f"{r['min_step_s']:>8.3f}{r['max_step_s']:>8.3f}{r['egs_per_s']:>8.2f}"
            f"{r['median_cpu_s']:>8.2f}{max(r['load_average']):>6.1f}"
            f"{_gib(peak):>10}{_gib(above):>11}"
            f"{gflop:>12}{gflops:>9}")
    if loaders:
        lines += ["", f"{'data loader':<14}{'batch':>6}{'workers':>8}{'batches/s':>11}"
                      f"{'EGs/s':>9}"]
        for r in loaders:
            if "error" in r:
                lines.append(f"{r['preset']:<14}{r['batch_size']:>6}  error: {r['error']}")
                continue
            lines.append(f"{r['preset']:<14}{r['batch_size']:>6}{r['workers']:>8}"
                         f"{r['batches_per_s']:>11.2f}{r['egs_per_s']:>9.1f}")
    return "\n".join(lines)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default=DEFAULT_PRESETS,
                        help=f"comma-separated preset names (default {DEFAULT_PRESETS})")
    parser.add_argument("--batch-sizes", default="16", help="comma-separated, per side")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps first (default 3)")
    parser.add_argument("--steps", type=int, default=10, help="timed steps (default 10)")
    parser.add_argument("--precision", default="auto", choices=("auto", "off", "bf16", "fp16"),
                        help="the trainer's mixed_precision (default auto)")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch CPU threads (default: torch's own choice)")
    add_speed_arguments(parser)
    parser.add_argument("--fused-optimizer", choices=("auto", "on", "off"), default="auto",
                        help="fused optimiser kernels (default auto: where torch has them)")
    parser.add_argument("--loader-workers", type=int, default=2,
                        help="DataLoader workers for the loader timing (default 2)")
    parser.add_argument("--loader-batches", type=int, default=20,
                        help="timed loader batches (default 20; 0 skips the loader timing)")
    parser.add_argument("--loader-faces", type=int, default=64,
                        help="synthetic faces written per side (default 64)")
    parser.add_argument("--moments", choices=MOMENT_DTYPES, default="auto",
                        help="Adam's moments between steps (default auto, as the trainer)")
    parser.add_argument("--count-flops", action=argparse.BooleanOptionalAction, default=True,
                        help="count one more step's FLOPs (default on; off for slow presets)")
    parser.add_argument("--json", help="also write every result to this JSON file")
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if args.child:
        _child(args)
        return
    presets = [p.strip() for p in args.presets.split(",") if p.strip()]
    batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    load_before = os.getloadavg()
    steps, loaders = [], []
    for preset in presets:
        for batch_size in batch_sizes:
            steps.append(_run_child(argv, "step", preset, batch_size))
            print(format_table(steps[-1:], []).splitlines()[-1], flush=True)
    if args.loader_batches > 0:
        seen = set()
        for preset in presets:
            for batch_size in batch_sizes:
                key = (resolve_options(preset).output_size, batch_size)
                if key not in seen:  # the loader depends only on sizes and batch
                    seen.add(key)
                    loaders.append(_run_child(argv, "loader", preset, batch_size))
    report = {"machine": {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                          "environment": {name: os.environ.get(name) for name in THREAD_ENV},
                          "torch": torch.__version__, "python": platform.python_version(),
                          "load_average_before": load_before,
                          "load_average_after": os.getloadavg()},
              "args": {k: v for k, v in vars(args).items() if k != "child"},
              "steps": steps, "loaders": loaders}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    print()
    print(format_table(steps, loaders))
    print(f"\nload average before {load_before[0]:.2f}, after {os.getloadavg()[0]:.2f} "
          f"({os.cpu_count()} CPUs)")
    if args.json:
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
