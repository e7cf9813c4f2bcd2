"""`phaze score`: how well a trained model swaps identities, keeps expressions and reconstructs."""
from __future__ import annotations

import argparse
import json


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "score", help="measure swap quality (identity, expression, reconstruction)",
        description="Swap both face folders through the model and report, per direction, the "
                    "share of swaps nearer the target identity than the source (dlib face "
                    "recognition), the mean cosine margin, identity retrieval among A, B and "
                    "--distractors (top-1 and margin with its spread), the swaps' sharpness "
                    "against the targets', a verdict (transfer, partial transfer, no transfer, "
                    "too blurry to judge), the landmark distance between each face and its "
                    "swap in % of inter-ocular distance, and each side's reconstruction SSIM.")
    parser.add_argument("--model-dir", required=True, help="a Phaze model folder")
    parser.add_argument("--faces-a", required=True, help="folder of side A face images")
    parser.add_argument("--faces-b", required=True, help="folder of side B face images")
    parser.add_argument("--distractors", action="append", default=[], metavar="DIR",
                        help="folder of another person's faces for identity retrieval "
                             "(repeat for several people; the swaps must be nearer B than "
                             "A and every distractor)")
    parser.add_argument("--limit", type=int, default=64, help="faces per side at most (64)")
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:<index>")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.set_defaults(func=run)


def _figure(value: float | None, unit: str = "") -> str:
    return "n/a" if value is None else f"{value:.3f}{unit}"


def run(args: argparse.Namespace) -> int:
    from phaze.score.run import score_model

    report = score_model(args.model_dir, args.faces_a, args.faces_b, args.device, args.limit,
                         distractors=args.distractors)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    for name, score in report.directions.items():
        print(f"{name}: identity share {_figure(score.identity_share)}, margin "
              f"{_figure(score.identity_margin)}, landmark error "
              f"{_figure(score.landmark_error_percent_iod, ' % IOD')} ({score.faces} faces)")
        spread = "" if score.retrieval_margin_std is None else \
            f" ± {score.retrieval_margin_std:.3f}"
        print(f"  retrieval top-1 {_figure(score.retrieval_top1)} among "
              f"{score.gallery_identities} identities, margin "
              f"{_figure(score.retrieval_margin)}{spread}, distance to the target "
              f"{_figure(score.target_distance)} (same person < 0.6), sharpness "
              f"{_figure(score.sharpness_ratio)} of the targets' -> {score.verdict}")
        for note in score.notes:
            print(f"  note: {note}")
    for side, ssim in report.reconstruction_ssim.items():
        print(f"reconstruction SSIM {side}: {ssim:.3f}")
    return 0
