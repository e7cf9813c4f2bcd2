"""How long the design page waits for an answer: `phaze.ui.design_view.evaluate` timed.

For each preset, in a fresh process with the imports `phaze ui` warms up already done: the
first evaluation (probe of the backbone and its activation count, then summary, routes, curves
and the memory estimate), then evaluations after changing an option outside the encoder (the
common edit: decoders, FC sizes), each a new design the server's answer cache has not seen.

    .venv/bin/python bench/design_latency.py --presets sym384 stojo dny1024 clipfaker448

This is a script, never a test.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

CHILD = r"""
import json, sys, time
import phaze.train.memory
from phaze.model.encoders.timm_compat import timm_available
timm_available()
from phaze.config.presets import resolve_options
from phaze.ui.design_view import evaluate

preset, batch_size, edits = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
values = resolve_options(preset).to_dict()
start = time.perf_counter()
first = evaluate(values, batch_size)
times = {"first_s": time.perf_counter() - start, "edits_s": []}
for step in range(edits):
    values = dict(values, split_decoders=not values["split_decoders"],
                  dec_min_filters=values["dec_min_filters"] + 16 * (step % 2))
    start = time.perf_counter()
    answer = evaluate(values, batch_size)
    times["edits_s"].append(time.perf_counter() - start)
    assert answer["ok"], answer["errors"]
times["parameters"] = first["summary"]["total_trainable"] + first["summary"]["total_non_trainable"]
print(json.dumps(times))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", nargs="+", default=["sym384", "stojo", "dny1024",
                                                          "clipfaker448", "original"])
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--edits", type=int, default=4)
    args = parser.parse_args()
    print("| preset | parameters | first answer (s) | after an edit, median (s) |")
    print("|---|---|---|---|")
    for preset in args.presets:
        out = subprocess.run([sys.executable, "-c", CHILD, preset, str(args.batch_size),
                              str(args.edits)], check=True, capture_output=True, text=True)
        times = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"| {preset} | {times['parameters'] / 1e6:.1f} M | {times['first_s']:.2f} | "
              f"{statistics.median(times['edits_s']):.2f} |", flush=True)


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"\n{time.time() - started:.0f} s in all", file=sys.stderr)
