"""Model FLOPs utilisation of `bench/throughput.py --json` results on a GPU.

MFU = the model's FLOPs per training step / the median step time / the GPU's peak dense bf16
rate. The peaks are the vendors' dense (no sparsity) bf16 tensor-core figures; give
`--peak-tflops` for a GPU not listed.

    .venv/bin/python bench/mfu.py runs/gpu/throughput-*.json [--gpu "NVIDIA H200"]
"""
from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

# Dense bf16 peak, TFLOP/s, by a substring of the name nvidia-smi prints.
PEAK_BF16_TFLOPS = {"H200": 989.4, "H100": 989.4, "A100": 312.0, "L40S": 362.1,
                    "L4": 121.0, "A10": 125.0, "RTX 4090": 165.2, "RTX 3090": 71.0}


def gpu_name() -> str:
    try:
        return subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"],
                              capture_output=True, text=True, check=True).stdout.splitlines()[0]
    except (OSError, subprocess.CalledProcessError, IndexError):
        return "unknown"


def peak_for(name: str) -> float | None:
    for key, tflops in sorted(PEAK_BF16_TFLOPS.items(), key=lambda item: -len(item[0])):
        if key in name:
            return tflops
    return None


def rows(results: list[dict], peak_tflops: float | None) -> list[str]:
    lines = ["| preset | batch | s/step | EGs/s | GFLOP/step | TFLOP/s | MFU | peak GiB |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['preset']} | {r['batch_size']} | error: {r['error']} |||||")
            continue
        flops = r.get("flops_per_step")
        rate = flops / r["median_step_s"] / 1e12 if flops else None
        mfu = f"{100 * rate / peak_tflops:.1f} %" if rate and peak_tflops else "-"
        peak = r.get("cuda_max_allocated_bytes", r.get("peak_rss_bytes", 0)) / 2 ** 30
        lines.append(f"| {r['preset']} | {r['batch_size']} | {r['median_step_s']:.4f} | "
                     f"{r['egs_per_s']:.1f} | {flops / 1e9 if flops else 0:.1f} | "
                     f"{rate or 0:.1f} | {mfu} | {peak:.2f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", nargs="+", type=Path, help="throughput.py --json files")
    parser.add_argument("--gpu", help="the GPU's name (default: what nvidia-smi says)")
    parser.add_argument("--peak-tflops", type=float, help="dense bf16 peak of the GPU")
    args = parser.parse_args()
    name = args.gpu or gpu_name()
    peak = args.peak_tflops or peak_for(name)
    results = [r for path in args.results for r in json.loads(path.read_text())["steps"]]
    print(f"GPU: {name}; dense bf16 peak: {peak or 'unknown'} TFLOP/s\n")
    print("\n".join(rows(results, peak)))


if __name__ == "__main__":
    main()
