"""`phaze faces`: sort, filter and report on a folder of extracted faces, and compare two sets."""
from __future__ import annotations

import argparse
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "faces", help="sort, filter and report on a folder of extracted faces",
        description="Clean a face set before training: sort by blur, identity or pose; move "
                    "blurred faces, other people and near-duplicates to a rejected/ sub-folder "
                    "(never deleted); picture the poses and expressions a set covers, or which "
                    "of A's are missing from B.")
    actions = parser.add_subparsers(dest="faces_action", required=True, metavar="ACTION")

    sort = actions.add_parser("sort", help="list (or rename) faces best first by one measure")
    sort.add_argument("--input", required=True, type=Path, help="folder of face PNGs")
    sort.add_argument("--by", default="blur",
                      help="blur (sharpest first), identity (most like the main person first), "
                           "pose (most frontal first), yaw, pitch, roll, mouth (blur)")
    sort.add_argument("--rename", action="store_true",
                      help="prefix each file with its 5-digit rank instead of only listing")
    sort.set_defaults(func=run_sort)

    filt = actions.add_parser("filter", help="move faces below limits to INPUT/rejected/")
    filt.add_argument("--input", required=True, type=Path, help="folder of face PNGs")
    filt.add_argument("--remove-below", action="append", default=[], metavar="KEY=VALUE",
                      help="blur=VALUE (variance of the Laplacian), identity=VALUE (1 - "
                           "distance to the main person; other people score below 0.4), or "
                           "KEY=P%% for the worst P percent; repeatable")
    filt.add_argument("--remove-duplicates", action="store_true",
                      help="move near-duplicates, keeping the sharpest of each group")
    filt.add_argument("--dry-run", action="store_true", help="list what would move, move nothing")
    filt.set_defaults(func=run_filter)

    report = actions.add_parser("report", help="picture of the set's poses and expressions")
    report.add_argument("--input", required=True, type=Path, help="folder of face PNGs")
    report.add_argument("--output", type=Path, default=None,
                        help="PNG path (default: INPUT_report.png beside the folder)")
    report.set_defaults(func=run_report)

    cover = actions.add_parser(
        "coverage", help="which poses/expressions of A have no close match in B",
        description="For every face of A, the nearest face of B in yaw, pitch, mouth and eye "
                    "opening; A faces without one within tolerance are where a swap onto A "
                    "will fail. Writes a PNG and a JSON listing them.")
    cover.add_argument("--faces-a", required=True, type=Path, help="the faces to be replaced")
    cover.add_argument("--faces-b", required=True, type=Path, help="the faces of the new person")
    cover.add_argument("--output", type=Path, default=Path("coverage.png"),
                       help="PNG path; the JSON goes beside it (coverage.png)")
    cover.set_defaults(func=run_coverage)


def _read(folder: Path, with_identity: bool = False):
    import sys

    from phaze.facesets.folder import read_face_set
    # Identity embeds every face (~0.1-0.2 s each on a CPU core): show progress on a terminal.
    face_set = read_face_set(folder, with_identity=with_identity,
                             progress=with_identity and sys.stderr.isatty())
    for name, why in face_set.skipped:
        print(f"skipped {name}: {why}")
    return face_set


def run_sort(args: argparse.Namespace) -> int:
    from phaze.facesets.sorting import SORT_KEYS, ranked, rename_ranked
    key = SORT_KEYS.get_entry(args.by)   # an unknown key fails before any face is read
    ranking = ranked(_read(args.input, key.needs_identity), args.by)
    names = rename_ranked(ranking) if args.rename else [face.path for face, _ in ranking]
    for path, (_, value) in zip(names, ranking):
        print(f"{value:10.4g}  {path.name}")
    return 0


def run_filter(args: argparse.Namespace) -> int:
    from phaze.errors import ConfigError
    from phaze.facesets.sorting import Limit, move_to_rejected, plan_rejects
    limits = [Limit.parse(text) for text in args.remove_below]
    if not limits and not args.remove_duplicates:
        raise ConfigError("faces filter needs --remove-below KEY=VALUE and/or "
                          "--remove-duplicates")
    face_set = _read(args.input, any(limit.key == "identity" for limit in limits))
    rejects = plan_rejects(face_set, limits, args.remove_duplicates)
    for path, why in rejects.items():
        print(f"{'would move' if args.dry_run else 'moved'} {path.name}: {why}")
    if not args.dry_run:
        move_to_rejected(args.input, list(rejects))
    print(f"{len(rejects)} of {len(face_set.faces)} faces "
          f"{'would go' if args.dry_run else 'moved'} to {args.input / 'rejected'}")
    return 0


def run_report(args: argparse.Namespace) -> int:
    from phaze.facesets.coverage import report_picture, write_picture
    face_set = _read(args.input)
    default = args.input.parent / f"{args.input.resolve().name}_report.png"
    path = write_picture(args.output or default,
                         report_picture(face_set))
    print(f"report: {path}")
    return 0


def run_coverage(args: argparse.Namespace) -> int:
    from phaze.facesets.coverage import (coverage, coverage_json, coverage_picture, write_json,
                                         write_picture)
    set_a, set_b = _read(args.faces_a), _read(args.faces_b)
    result = coverage(set_a.faces, set_b.faces)
    picture = write_picture(args.output, coverage_picture(set_a, set_b, result))
    listing = write_json(args.output.with_suffix(".json"), coverage_json(set_a, set_b, result))
    print(f"{int(result.covered.sum())} of {len(set_a.faces)} A faces have a close B face; "
          f"picture: {picture}, list: {listing}")
    return 0
