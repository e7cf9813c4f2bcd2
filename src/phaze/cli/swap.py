"""`phaze swap`: run a folder of faces through the other side of a trained model."""
from __future__ import annotations

import argparse

from phaze.io.devices import DEVICES_DOC
from phaze.sides import DIRECTIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "swap", help="swap every face image in a folder",
        description="Swap every png/jpg/jpeg/webp face in --input through the target side of "
                    "the model and write <name>.png (and masks/<name>.png) into --output.")
    parser.add_argument("--model-dir", required=True, help="a Phaze model folder")
    parser.add_argument("--input", required=True, help="folder of aligned face images")
    parser.add_argument("--output", required=True, help="folder for the swapped faces")
    # Checked by the library, not argparse `choices`, so a bad value is one clear line.
    parser.add_argument("--direction", default="a-to-b", metavar="|".join(DIRECTIONS),
                        help="a-to-b shows A's faces as B (default: a-to-b)")
    parser.add_argument("--batch-size", type=int, default=16, help="faces per batch (16)")
    parser.add_argument("--device", default="auto", help=f"{DEVICES_DOC} (default: auto)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from phaze.inference.folder_swap import swap_folder  # imports torch and OpenCV: keep --help light

    report = swap_folder(args.model_dir, args.input, args.output, args.direction,
                         args.batch_size, args.device, progress=not args.no_progress)
    skipped = f", skipped {len(report.skipped)} unreadable" if report.skipped else ""
    print(f"swapped {report.count} faces into {args.output}{skipped} "
          f"({report.faces_per_sec:.1f} faces/sec)")
    return 0
