"""`phaze import-faceswap`: turn a faceswap-trained Phaze-A model into a Phaze model folder."""
from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "import-faceswap", help="import a faceswap Phaze-A model (<name>.keras, or "
                                "faceswap 2's <name>.h5, + <name>_state.json) as a new Phaze "
                                "model folder",
        description="Read a faceswap Phaze-A model folder with zipfile + h5py (no Keras "
                    "needed), rebuild the same design and copy every weight; see "
                    "docs/faceswap-differences.md.")
    parser.add_argument("--from", dest="source", required=True,
                        help="the faceswap model folder")
    parser.add_argument("--model-dir", required=True, help="the new Phaze model folder")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from phaze.importers.faceswap import import_faceswap

    report = import_faceswap(args.source, args.model_dir)
    print(f"imported {report.tensors} tensors ({report.parameters:,} parameters) into "
          f"{report.model_dir} (centering {report.centering}, coverage {report.coverage:g})")
    return 0
