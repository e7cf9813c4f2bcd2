"""End to end on real footage: extract → train → convert (video) → score, with a report.

    python bench/realswap.py CLIP_A CLIP_B [--output-dir OUT] [--preset demo]
        [--iterations 500] [--distractors CLIP ...] [--device cpu]

Runs what a new user runs, on two clips of two people: `phaze extract` on both, `phaze train`
(a fresh model of the preset, N iterations, as a subprocess like the command line), `convert`
of clip A into an .mp4 showing B's face (with and without landmark smoothing, to measure
flicker), and `score` with identity retrieval against distractor people (by default every
other video beside CLIP_A). Writes into OUT: report.json, report.md (timings per stage, score
figures, flicker), side_by_side.png (source frames above converted frames), the model, the
faces and the converted videos. See bench/README.md for the report's fields.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

VIDEO_SUFFIXES = (".mp4", ".mov", ".mkv")
PICTURE_FRAMES = 4
PICTURE_HEIGHT_PX = 240


def _timed(timings: dict, stage: str):
    class _Timer:
        def __enter__(self):
            self.start = time.perf_counter()
            print(f"[realswap] {stage} ...", flush=True)

        def __exit__(self, *exc):
            timings[stage] = round(time.perf_counter() - self.start, 1)
            print(f"[realswap] {stage}: {timings[stage]} s", flush=True)
    return _Timer()


def extract(clip: Path, folder: Path, every_n: int = 1) -> dict:
    from phaze.extract.pipeline import ExtractConfig, extract_faces

    report = extract_faces(clip, folder, ExtractConfig(every_n=every_n, size_px=256))
    return {"frames": report.frames_read, "faces": report.faces_found,
            "frames_per_s": round(report.frames_per_sec, 1)}


def train(faces_a: Path, faces_b: Path, model_dir: Path, preset: str, iterations: int,
          batch_size: int, device: str) -> None:
    """`phaze train` as a user runs it, in its own process group (ended on any failure)."""
    command = [sys.executable, "-m", "phaze", "train", "--preset", preset, "--faces-a",
               str(faces_a), "--faces-b", str(faces_b), "--model-dir", str(model_dir),
               "--iterations", str(iterations), "--batch-size", str(batch_size),
               "--save-interval", str(iterations), "--preview-interval", str(iterations),
               "--device", device, "--no-tensorboard", "--workers", "1"]
    process = subprocess.Popen(command, start_new_session=True)
    try:
        code = process.wait()
    except BaseException:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait()
        raise
    if code:
        raise SystemExit(f"phaze train failed with exit code {code}")


def convert_and_flicker(model_dir: Path, clip: Path, alignments: Path, output: Path,
                        smoothing: str, device: str) -> dict:
    sys.path.insert(0, str(Path(__file__).parent))
    from flicker import flicker_of   # bench/flicker.py

    return flicker_of(model_dir, clip, alignments, output, smoothing, device=device)


def picture(source_clip: Path, converted: Path, output: Path) -> None:
    """PICTURE_FRAMES frames spread over the clip: sources on top, converted below."""
    import cv2

    from phaze.convert.frames import open_frames
    from phaze.io.images import write_bytes_atomic

    total = len(open_frames(converted))
    wanted = {round(i * (total - 1) / (PICTURE_FRAMES - 1)) for i in range(PICTURE_FRAMES)}

    def pick(path: Path) -> list[np.ndarray]:
        frames = [frame for index, (_, frame) in enumerate(open_frames(path)) if index in wanted]
        scale = PICTURE_HEIGHT_PX / frames[0].shape[0]
        size = (round(frames[0].shape[1] * scale), PICTURE_HEIGHT_PX)
        return [cv2.resize(f, size, interpolation=cv2.INTER_AREA) for f in frames]

    grid = np.concatenate([np.concatenate(pick(source_clip), 1),
                           np.concatenate(pick(converted), 1)], 0)
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(grid, cv2.COLOR_RGB2BGR))
    if ok:
        write_bytes_atomic(output, encoded.tobytes())


def score(model_dir: Path, faces_a: Path, faces_b: Path, distractors: list[Path],
          device: str, limit: int) -> dict:
    from phaze.score.run import score_model

    return score_model(model_dir, faces_a, faces_b, device, limit,
                       distractors=distractors).to_dict()


def default_distractors(clip_a: Path, clip_b: Path) -> list[Path]:
    return sorted(p for p in clip_a.parent.iterdir()
                  if p.suffix.lower() in VIDEO_SUFFIXES
                  and p.resolve() not in (clip_a.resolve(), clip_b.resolve()))


def machine() -> dict:
    import torch

    return {"cpus": os.cpu_count(), "torch_threads": torch.get_num_threads(),
            "load_avg_1min": round(os.getloadavg()[0], 2), "python": platform.python_version(),
            "torch": torch.__version__, "processor": platform.processor() or platform.machine()}


def markdown(report: dict) -> str:
    lines = [f"# realswap: {report['clip_a']} → {report['clip_b']}", "",
             f"preset `{report['preset']}`, {report['iterations']} iterations, batch "
             f"{report['batch_size']}, device {report['device']}; machine: "
             + ", ".join(f"{k} {v}" for k, v in report["machine"].items()), "",
             "| stage | seconds |", "|---|---|"]
    lines += [f"| {stage} | {seconds} |" for stage, seconds in report["timings_s"].items()]
    lines += ["", "| direction | verdict | retrieval top-1 | margin ± spread | target distance "
              "(same person < 0.6) | sharpness | share (A vs B only) | swaps without face |",
              "|---|---|---|---|---|---|---|---|"]
    for name, d in report["score"]["directions"].items():
        def figure(value):
            return "n/a" if value is None else f"{value:.3f}"
        spread = "" if d["retrieval_margin_std"] is None else f" ± {d['retrieval_margin_std']:.3f}"
        lines.append(f"| {name} | {d['verdict']} | {figure(d['retrieval_top1'])} of "
                     f"{d['gallery_identities']} | {figure(d['retrieval_margin'])}{spread} | "
                     f"{figure(d['target_distance'])} | {figure(d['sharpness_ratio'])} | {figure(d['identity_share'])} | "
                     f"{d['swaps_without_face']} of {d['faces']} |")
    lines += ["", "| smoothing | flicker ratio (output / source) | convert s |", "|---|---|---|"]
    lines += [f"| {f['smoothing']} | {f['ratio']} | {f['convert_s']} |"
              for f in report["flicker"]]
    lines += ["", "![source above, converted below](side_by_side.png)", ""]
    return "\n".join(lines)


def _write_atomic(path: Path, text: str) -> None:
    temp = path.with_name(f".{path.name}.partial")
    temp.write_text(text)
    os.replace(temp, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("clip_a", type=Path, help="video of person A (converted to show B)")
    parser.add_argument("clip_b", type=Path, help="video of person B")
    parser.add_argument("--output-dir", type=Path, default=Path("realswap_report"))
    parser.add_argument("--preset", default="demo")
    parser.add_argument("--iterations", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--distractors", type=Path, nargs="*", default=None,
                        help="videos of other people (default: the other videos beside CLIP_A)")
    parser.add_argument("--distractor-every-n", type=int, default=15)
    parser.add_argument("--score-limit", type=int, default=32, help="faces per side scored")
    args = parser.parse_args()
    out = args.output_dir
    out.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    with _timed(timings, "extract A"):
        extract_a = extract(args.clip_a, out / "faces_a")
    with _timed(timings, "extract B"):
        extract_b = extract(args.clip_b, out / "faces_b")
    distractors = args.distractors
    if distractors is None:
        distractors = default_distractors(args.clip_a, args.clip_b)
    with _timed(timings, "extract distractors"):
        for clip in distractors:
            extract(clip, out / "distractors" / clip.stem, args.distractor_every_n)
    with _timed(timings, "train"):
        train(out / "faces_a", out / "faces_b", out / "model", args.preset, args.iterations,
              args.batch_size, args.device)
    flicker = []
    for smoothing in ("none", "one-euro"):
        with _timed(timings, f"convert ({smoothing})"):
            flicker.append(convert_and_flicker(
                out / "model", args.clip_a, out / "faces_a" / "alignments.json",
                out / f"swapped_{smoothing}.mp4", smoothing, args.device))
    with _timed(timings, "score"):
        scores = score(out / "model", out / "faces_a", out / "faces_b",
                       [out / "distractors" / clip.stem for clip in distractors],
                       args.device, args.score_limit)
    picture(args.clip_a, out / "swapped_one-euro.mp4", out / "side_by_side.png")
    report = {"clip_a": args.clip_a.name, "clip_b": args.clip_b.name, "preset": args.preset,
              "iterations": args.iterations, "batch_size": args.batch_size,
              "device": args.device, "machine": machine(), "timings_s": timings,
              "extract": {"a": extract_a, "b": extract_b},
              "distractors": [clip.name for clip in distractors], "flicker": flicker,
              "score": scores}
    _write_atomic(out / "report.json", json.dumps(report, indent=2))
    _write_atomic(out / "report.md", markdown(report))
    print(markdown(report))


if __name__ == "__main__":
    main()
