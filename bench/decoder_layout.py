"""A preset's decoder alone, NCHW against channels-last: forward and backward seconds.

Builds the model, feeds its first decoder a random input of the planned shape and times
`decoder(x)` and `.mean().backward()` for each memory format, in fresh processes.

    .venv/bin/python bench/decoder_layout.py --preset dfl-saehd-liae --batch-size 4

This is a script, never a test.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

CHILD = r"""
import sys, time, torch
from phaze.config.presets import resolve_options
from phaze.model.phaze_a import build_model

preset, batch, layout, repeats, threads = sys.argv[1:6]
torch.set_num_threads(int(threads))
model = build_model(resolve_options(preset))
decoder = next(m for name, m in model.submodels().items() if name.startswith("decoder"))
design = model.design
x = torch.randn(int(batch), design.side_channels, design.fc_out_size, design.fc_out_size)
if layout == "channels_last":
    decoder = decoder.to(memory_format=torch.channels_last)
    x = x.contiguous(memory_format=torch.channels_last)
for _ in range(int(repeats)):
    start = time.perf_counter()
    out = decoder(x)[0]
    middle = time.perf_counter()
    out.mean().backward()
    end = time.perf_counter()
print(f"{middle - start:.2f} {end - middle:.2f}")
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--preset", default="dfl-saehd-liae")
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=2, help="the last one is reported")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    print(f"| {args.preset} decoder, batch {args.batch_size} | forward s | backward s |")
    print("|---|---|---|")
    for layout in ("nchw", "channels_last"):
        out = subprocess.run([sys.executable, "-c", CHILD, args.preset, str(args.batch_size),
                              layout, str(args.repeats), str(args.threads)],
                             check=True, capture_output=True, text=True)
        forward, backward = out.stdout.split()
        print(f"| {layout} | {forward} | {backward} |", flush=True)


if __name__ == "__main__":
    started = time.time()
    main()
    print(f"\n{time.time() - started:.0f} s in all", file=sys.stderr)
