"""Where the training data path spends its time, on real face folders or synthetic ones.

Two phases, each the trainer's own code:
1. **load** (`load_faceset`, once per run): decode every face file, parse its metadata, frame
   it at the model's size, build its masks; wall time per side and a cProfile of the busiest
   functions.
2. **per batch** (`make_training_batches`): augmentation, warp, masks and loss-weight maps of
   every example, timed in this process (`--workers 0`: what one worker makes, samples/s per
   worker) and with DataLoader workers, plus a cProfile of the in-process stream.

    PYTHONPATH=src python bench/data_path.py --faces-a A --faces-b B --preset original

Without `--faces-a/--faces-b` it writes synthetic face folders at 256 px to a temporary folder.
Compare the samples/s with what the model's step consumes: batch × 2 / (s/step).
"""
from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import tempfile
import time
from pathlib import Path

from phaze.config.presets import resolve_options
from phaze.data.faceset import FaceSet, load_faceset
from phaze.data.loader import make_training_batches
from phaze.data.settings import AugmentConfig
from phaze.data.synthetic import write_faceset
from phaze.model.phaze_a import build_model
from phaze.sides import SIDES
from throughput import batches_per_second  # bench/: this script's own folder is on sys.path

SYNTHETIC_FACES_PER_SIDE = 200
SYNTHETIC_FACE_PX = 256


def profiled(work, top: int):
    """(result, wall s, text of the `top` functions by own time) of calling `work()`."""
    profile = cProfile.Profile()
    started = time.perf_counter()
    result = profile.runcall(work)
    elapsed = time.perf_counter() - started
    text = io.StringIO()
    pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(top)
    lines = text.getvalue().splitlines()
    table = lines[next(i for i, line in enumerate(lines) if "ncalls" in line):]
    return result, elapsed, "\n".join(line for line in table if line.strip())


def load_sides(folders: dict[str, Path], size_px: int, top: int) -> dict[str, FaceSet]:
    sets = {}
    for side, folder in folders.items():
        faceset, elapsed, table = profiled(lambda: load_faceset(folder, side, 1, size_px), top)
        print(f"load side {side.upper()}: {len(faceset)} faces at {size_px} px in {elapsed:.2f} s "
              f"({len(faceset) / elapsed:.0f} faces/s; cProfile on)")
        print(table, "\n")
        sets[side] = faceset
    # Without the profiler's overhead, the figure to compare with a training run's start-up.
    for side, folder in folders.items():
        started = time.perf_counter()
        load_faceset(folder, side, 1, size_px)
        print(f"load side {side.upper()} again, no profiler: {time.perf_counter() - started:.2f} s")
    return sets


def time_stream(sets: dict[str, FaceSet], model, batch_size: int, workers: int,
                batches: int) -> float:
    """Samples (both sides) per second of the trainer's batch stream after it has warmed up."""
    stream = make_training_batches(sets["a"], sets["b"], model.input_size, model.output_size,
                                   batch_size, AugmentConfig(), workers)
    return batches_per_second(stream, workers, batches) * batch_size * 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faces-a", type=Path)
    parser.add_argument("--faces-b", type=Path)
    parser.add_argument("--preset", default="original")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batches", type=int, default=30, help="timed batches per run")
    parser.add_argument("--workers", default="0,1,2", help="worker counts to time")
    parser.add_argument("--top", type=int, default=12, help="profile rows to print")
    args = parser.parse_args()
    if (args.faces_a is None) != (args.faces_b is None):
        parser.error("give both --faces-a and --faces-b, or neither (synthetic faces)")
    model = build_model(resolve_options(args.preset), "meta")
    size_px = max(model.input_size, model.output_size)
    with tempfile.TemporaryDirectory(prefix="phaze-data-path-") as scratch:
        folders = {"a": args.faces_a, "b": args.faces_b}
        if args.faces_a is None:
            for side in SIDES:
                folders[side] = Path(scratch) / side
                write_faceset(folders[side], side, SYNTHETIC_FACES_PER_SIDE,
                              size_px=SYNTHETIC_FACE_PX)
        sets = load_sides(folders, size_px, args.top)
    rate, _, table = profiled(lambda: time_stream(sets, model, args.batch_size, 0, args.batches),
                              args.top)
    print(f"\nper batch, in this process (cProfile on): {rate:.0f} samples/s")
    print(table, "\n")
    for workers in (int(w) for w in args.workers.split(",")):
        rate = time_stream(sets, model, args.batch_size, workers, args.batches)
        per_worker = f", {rate / workers:.0f} per worker" if workers else " (one process)"
        print(f"{workers} worker(s): {rate:.0f} samples/s{per_worker}")


if __name__ == "__main__":
    main()
