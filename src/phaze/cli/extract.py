"""`phaze extract`: faces from a folder of photos or a video, aligned the way faceswap aligns them."""
from __future__ import annotations

import argparse
from pathlib import Path

from phaze.errors import ConfigError

DEFAULT_ROTATE = "30,-30,90,-90,180"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "extract", help="find and align faces in photos or a video",
        description="Detect faces in every frame of --input (a folder of images or a video), "
                    "find their 68 landmarks, and write head-centred aligned faces "
                    "<frame stem>_<face index>.png (with faceswap metadata) into --output, "
                    "plus a JSON alignments file for convert.")
    parser.add_argument("--input", required=True, help="folder of images, or a video file")
    parser.add_argument("--output", required=True, help="folder for the aligned faces")
    parser.add_argument("--size", type=int, default=512, help="face PNG side in px (512)")
    parser.add_argument("--every-n", type=int, default=1, help="use every n-th frame (1)")
    parser.add_argument("--min-size", type=int, default=20,
                        help="skip faces whose box is smaller than this, in frame px (20)")
    parser.add_argument("--detector", default="hog", help="hog (default, fast), cnn or centerface")
    parser.add_argument("--threshold", type=float, default=0.2,
                        help="minimum detector score (0.2)")
    parser.add_argument("--upsample", default="auto",
                        help="doublings before detection: auto (small frames), 0..3")
    parser.add_argument("--rotate", default=DEFAULT_ROTATE,
                        help="angles to retry when no face is found upright, comma-separated "
                             f"degrees, or 'off' ({DEFAULT_ROTATE})")
    parser.add_argument("--alignments", type=Path, default=None,
                        help="alignments JSON path (default: OUTPUT/alignments.json)")
    parser.add_argument("--alignments-only", action="store_true",
                        help="write only the alignments file, no face PNGs")
    parser.add_argument("--smooth", default="9",
                        help="video: landmark smoothing window in frames along each face track "
                             "(odd, 5..31; zero lag), or 'off' (9)")
    parser.add_argument("--refeed", type=int, default=5,
                        help="landmark fits from slightly shifted boxes, averaged for sub-pixel "
                             "points (1..9; 1 = a single fit) (5)")
    parser.add_argument("--full-scan-every", type=int, default=5, metavar="N",
                        help="video: while faces are tracked the detector looks only around "
                             "them, and scans the whole frame for new faces every N frames and "
                             "at cuts (5; 1 = every frame)")
    parser.add_argument("--only-like", nargs="+", type=Path, default=(), metavar="PHOTO",
                        help="keep only the person in these reference photos (one face each)")
    parser.add_argument("--like-distance", type=float, default=0.6,
                        help="face-recognition distance under which a face counts as the "
                             "reference person (0.6; lower is stricter)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    parser.set_defaults(func=run)


def parse_rotations(text: str) -> tuple[int, ...]:
    if text.strip().lower() in ("off", "none", ""):
        return ()
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError:
        raise ConfigError(f"--rotate {text!r} is invalid: expected comma-separated integer "
                          "degrees (e.g. 90,-90,180) or 'off'") from None


def parse_upsample(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--upsample {text!r} is invalid: expected auto or 0..3") from None


def parse_smooth(text: str) -> int:
    if text.strip().lower() in ("off", "0", "none"):
        return 0
    try:
        return int(text)
    except ValueError:
        raise ConfigError(f"--smooth {text!r} is invalid: expected an odd number of frames "
                          "in 5..31 or 'off'") from None


def run(args: argparse.Namespace) -> int:
    from phaze.extract.find import FindConfig
    from phaze.extract.identity import LikeConfig
    from phaze.extract.pipeline import ExtractConfig, extract_faces
    from phaze.faces.smoothing.centred import SmoothConfig
    from phaze.extract.tracks import TrackConfig

    find = FindConfig(detector=args.detector, threshold=args.threshold,
                      min_size_px=args.min_size, upsample=parse_upsample(args.upsample),
                      rotations=parse_rotations(args.rotate), refeed=args.refeed)
    config = ExtractConfig(size_px=args.size, every_n=args.every_n, find=find,
                           alignments_path=args.alignments,
                           write_faces=not args.alignments_only, progress=not args.no_progress,
                           smooth=SmoothConfig(parse_smooth(args.smooth)),
                           like=LikeConfig(tuple(args.only_like), args.like_distance),
                           track=TrackConfig(search_every=args.full_scan_every))
    report = extract_faces(args.input, args.output, config)
    print(report.summary())
    return 0
