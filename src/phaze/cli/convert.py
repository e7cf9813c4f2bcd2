"""`phaze convert`: swap the faces of a video or a folder of frames with a trained model."""
from __future__ import annotations

import argparse
from pathlib import Path

from phaze.convert import (COLOUR_METHODS, DEFAULT_COLOUR, MASK_SOURCES, OCCLUSION_COMBINE,
                           SHARPEN_METHODS, SMOOTHING_METHODS, WRITERS)
from phaze.sides import DIRECTIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "convert", help="put swapped faces back into a video or a folder of frames",
        description="Swap every face listed in --alignments (from `phaze extract`) in the "
                    "frames of --input (a video or a folder of images) and write --output: a "
                    "video (same fps, source audio copied) or a folder of frames.")
    parser.add_argument("--model-dir", required=True, help="a trained Phaze model folder")
    parser.add_argument("--input", required=True, help="a video file or a folder of frames")
    parser.add_argument("--alignments", required=True, help="alignments JSON from extract")
    parser.add_argument("--output", required=True,
                        help="a video file (.mp4, .mov, .mkv) or a folder for the frames; "
                             "its name decides what is written")
    # Checked by the library, not argparse `choices`, so a bad value is one clear line.
    parser.add_argument("--writer", default="auto", metavar="auto|" + "|".join(WRITERS),
                        help="auto (default): a video for a .mp4/.mov/.mkv output, PNG frames "
                             "for a folder; png, jpg or video override it")
    parser.add_argument("--direction", default="a-to-b", metavar="|".join(DIRECTIONS),
                        help="a-to-b shows A's faces as B (default: a-to-b)")
    parser.add_argument("--mask-type", default="auto", metavar="|".join(MASK_SOURCES),
                        help="auto (default): the model's learned mask if it has one, else "
                             "the extended landmark mask; occlusion: the mask segmenter "
                             "given by --mask-model (docs/masks.md)")
    parser.add_argument("--mask-model", default=None, metavar="DIR",
                        help="a mask model folder from `phaze mask train` (mask type occlusion)")
    parser.add_argument("--occlusion-combine", default="none",
                        metavar="|".join(OCCLUSION_COMBINE),
                        help="combine the occlusion mask with the model's mask (learned if it "
                             "has one, else extended): none (default), intersect or union")
    parser.add_argument("--mask-blur", type=int, default=3,
                        help="box-blur kernel on a 128 px basis (default: 3)")
    parser.add_argument("--mask-threshold", type=float, default=4.0,
                        help="threshold in %% (default: 4)")
    parser.add_argument("--erosion", type=float, default=0.0,
                        help="shrink (+) or grow (-) the mask by this %% on every side")
    for side in ("top", "bottom", "left", "right"):
        parser.add_argument(f"--erosion-{side}", type=float, default=0.0,
                            help=f"extra erosion of the {side} side in %%")
    parser.add_argument("--colour", "--color", default=DEFAULT_COLOUR,
                        metavar="|".join(COLOUR_METHODS),
                        help=f"colour adjustment (default: {DEFAULT_COLOUR})")
    parser.add_argument("--sharpen", default="none", metavar="|".join(SHARPEN_METHODS),
                        help="sharpen the swapped face (default: none)")
    parser.add_argument("--sharpen-amount", type=float, default=1.0)
    parser.add_argument("--smoothing", default="one-euro", metavar="|".join(SMOOTHING_METHODS),
                        help="steady the pasted face: smooth each face's landmarks over time "
                             "along its track (default: one-euro; none: as extracted)")
    parser.add_argument("--smooth-cutoff", type=float, default=1.0, metavar="HZ",
                        help="one-euro cutoff of a still face: lower is steadier (1.0)")
    parser.add_argument("--smooth-beta", type=float, default=2.0,
                        help="one-euro speed adaptation: higher follows fast moves closer (2.0)")
    parser.add_argument("--batch-size", type=int, default=8, help="faces per batch (8)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:<index>")
    parser.add_argument("--fps", type=float, default=None,
                        help="frame rate when a folder of frames is written as a video")
    parser.add_argument("--preview", metavar="FRAME", default=None,
                        help="convert only this frame and write it beside the original "
                             "into --output (a .png file)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def _options(args: argparse.Namespace):
    from phaze.convert.mask import MaskOptions
    from phaze.convert.pipeline import ConvertOptions
    from phaze.faces.smoothing import OneEuroConfig

    mask = MaskOptions(blur_kernel=args.mask_blur, threshold_pct=args.mask_threshold,
                       erosion_pct=args.erosion, erosion_top_pct=args.erosion_top,
                       erosion_bottom_pct=args.erosion_bottom,
                       erosion_left_pct=args.erosion_left, erosion_right_pct=args.erosion_right)
    return ConvertOptions(mask_type=args.mask_type, mask=mask, colour=args.colour,
                          sharpen=args.sharpen, sharpen_amount=args.sharpen_amount,
                          batch_size=args.batch_size, smoothing=args.smoothing,
                          smoothing_config=OneEuroConfig(min_cutoff_hz=args.smooth_cutoff,
                                                         beta=args.smooth_beta),
                          occlusion_combine=args.occlusion_combine)


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from phaze.convert.run import ConvertJob, convert, preview

    options = _options(args)
    job = ConvertJob(Path(args.model_dir), Path(args.input), Path(args.alignments),
                     Path(args.output), args.writer, args.direction, args.device, args.fps,
                     Path(args.mask_model) if args.mask_model else None)
    if args.preview is not None:
        preview(job, args.preview, options)
        print(f"preview of {args.preview} (original | converted) written to {args.output}")
        return 0
    bar = tqdm(unit="frame", desc="convert", disable=args.no_progress)

    def start(total: int) -> None:
        bar.total = total
        bar.refresh()

    try:
        report = convert(job, options, on_frame=lambda: bar.update(1), on_start=start)
    finally:
        bar.close()
    print(f"converted {report.frames} frames ({report.faces} faces, "
          f"{report.frames_without_faces} frames without faces) into {args.output} "
          f"in {report.seconds:.1f} s ({report.frames_per_sec:.1f} frames/s)")
    return 0
