"""Flicker of converted clips with and without landmark smoothing.

    python bench/flicker.py --model-dir MODEL --input clip.mp4 --alignments clip.json \
        [--output-dir OUT] [--direction a-to-b]

Converts the clip to .mp4 once per smoothing setting and prints, per setting, the mean
absolute frame-to-frame change in the face region of the output over the same in the source
(`phaze.score.flicker`): 1.0 means the swapped face changes as much as the real one did.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from phaze.convert.alignments import load_alignments
from phaze.convert.frames import open_frames
from phaze.convert.pipeline import ConvertOptions
from phaze.convert.run import ConvertJob, convert
from phaze.score.flicker import measure_flicker


def flicker_of(model_dir: Path, video: Path, alignments_path: Path, output: Path,
               smoothing: str, direction: str = "a-to-b", device: str = "cpu") -> dict:
    """Convert `video` into `output` (.mp4) with this smoothing and measure its flicker."""
    started = time.perf_counter()
    report = convert(ConvertJob(model_dir, video, alignments_path, output, direction=direction,
                                device=device), ConvertOptions(smoothing=smoothing))
    seconds = time.perf_counter() - started
    alignments = load_alignments(alignments_path)
    source = open_frames(video, alignments.frame_count)
    converted = open_frames(output, alignments.frame_count)
    # The output's frames carry the output's name; pair them with the source's by position.
    paired = ((name, frame) for (name, _), (_, frame) in zip(source, converted))
    flicker = measure_flicker(open_frames(video, alignments.frame_count), paired,
                              alignments.faces)
    return {"smoothing": smoothing, "frames": report.frames, "convert_s": round(seconds, 1),
            "output_change": round(flicker.output_change, 3),
            "source_change": round(flicker.source_change, 3),
            "ratio": None if flicker.ratio is None else round(flicker.ratio, 3),
            "pairs": flicker.pairs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model-dir", type=Path, required=True)
    parser.add_argument("--input", type=Path, required=True, help="a video clip")
    parser.add_argument("--alignments", type=Path, required=True)
    parser.add_argument("--direction", default="a-to-b")
    parser.add_argument("--output-dir", type=Path, default=None,
                        help="keep the converted clips here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        folder = args.output_dir or Path(temp)
        for smoothing in ("none", "one-euro"):
            output = folder / f"{args.input.stem}_{smoothing}.mp4"
            print(json.dumps(flicker_of(args.model_dir, args.input, args.alignments, output,
                                        smoothing, args.direction)))


if __name__ == "__main__":
    main()
