"""Training throughput on 1 and on N processes of this machine: the real trainer, DDP included.

For each process count, `phaze.train.launch`-style workers (torch's elastic launcher, c10d
rendezvous on a free port) each run `Trainer` on in-memory synthetic faces at the same global
batch; rank 0 reports the median EGs/s over the timed iterations (log interval 1, so each
iteration is one report; the first `--warmup` are dropped). Threads per process are the
trainer's default (free cores / processes) unless `--threads` is given.

    .venv/bin/python bench/distributed.py --preset original --batch-size 8 --nprocs 1,2

This is a script, never a test.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"


def worker(preset: str, batch_size: int, iterations: int, warmup: int, threads: int | None,
           result_path: str) -> None:
    sys.path.insert(0, str(SRC))
    from phaze.config.presets import resolve_options
    from phaze.data.settings import AugmentConfig
    from phaze.data.sources import synthetic_source
    from phaze.data.synthetic import render_faces
    from phaze.train.config import TrainerConfig
    from phaze.train.loop import train

    options = resolve_options(preset)
    size = max(64, options.output_size)
    sources = []
    for side in ("a", "b"):
        faces, masks = render_faces(side, 64, size, seed=0)
        sources.append(synthetic_source(faces, side, masks))
    config = TrainerConfig(batch_size=batch_size, iterations=warmup + iterations,
                           log_interval=1, save_interval=10**6, preview_interval=10**6,
                           tensorboard=False, workers=0, threads=threads, device="cpu",
                           augment=AugmentConfig(warp=False, color=False))
    reports = []
    with tempfile.TemporaryDirectory() as model_dir:
        train(*sources, model_dir, options, config, on_progress=reports.append)
    if os.environ.get("RANK", "0") == "0":
        timed = [r.egs_per_sec for r in reports[warmup:]]
        Path(result_path).write_text(json.dumps({"egs": statistics.median(timed),
                                                 "load": os.getloadavg()[0]}))


def run(nproc: int, args: argparse.Namespace) -> dict:
    from torch.distributed.launcher.api import LaunchConfig, elastic_launch

    with tempfile.TemporaryDirectory() as folder:
        result = Path(folder) / "result.json"
        config = LaunchConfig(min_nodes=1, max_nodes=1, nproc_per_node=nproc,
                              run_id=uuid.uuid4().hex, rdzv_backend="c10d",
                              rdzv_endpoint="127.0.0.1:0", max_restarts=0)
        elastic_launch(config, worker)(args.preset, args.batch_size, args.iterations,
                                       args.warmup, args.threads, str(result))
        return json.loads(result.read_text())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="original")
    parser.add_argument("--batch-size", type=int, default=8, help="global, per side")
    parser.add_argument("--nprocs", default="1,2")
    parser.add_argument("--iterations", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--threads", type=int, default=None, help="per process")
    args = parser.parse_args()
    print(f"| processes | {args.preset} batch {args.batch_size} EGs/s | s/iteration | load |")
    print("|---|---|---|---|")
    for nproc in (int(n) for n in args.nprocs.split(",")):
        started = time.time()
        figures = run(nproc, args)
        print(f"| {nproc} | {figures['egs']:.2f} | {args.batch_size * 2 / figures['egs']:.2f} "
              f"| {figures['load']:.1f} |", flush=True)
        print(f"  ({time.time() - started:.0f} s with start-up)", file=sys.stderr)


if __name__ == "__main__":
    main()
