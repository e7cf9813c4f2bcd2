"""`phaze export`: write one swap direction of a model as an ONNX inference graph."""
from __future__ import annotations

import argparse

from phaze.export import DEFAULT_OPSET, EXPORTERS, FORMATS
from phaze.sides import DIRECTIONS


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export", help="export one swap direction as an ONNX graph",
        description="Write a single-direction inference graph: input 'face' (N, 3, S, S), "
                    "outputs 'swapped' (and 'mask'), all float32 in [0, 1] RGB; see "
                    "docs/inference.md.")
    parser.add_argument("--model-dir", required=True, help="a Phaze model folder")
    parser.add_argument("--output", required=True, help="the graph file to write (.onnx)")
    # Checked by the library, not argparse `choices`, so a bad value is one clear line.
    parser.add_argument("--direction", default="a-to-b", metavar="|".join(DIRECTIONS),
                        help="a-to-b exports side B's pathway (default: a-to-b)")
    parser.add_argument("--format", default="onnx", metavar="|".join(FORMATS),
                        help="graph format (default: onnx)")
    parser.add_argument("--exporter", default="auto", metavar="|".join(EXPORTERS),
                        help="torch.onnx exporter; auto = dynamo when onnxscript is installed, "
                             "else torchscript (default: auto)")
    parser.add_argument("--opset", type=int, default=DEFAULT_OPSET,
                        help=f"ONNX opset version (default: {DEFAULT_OPSET})")
    parser.add_argument("--no-verify", action="store_true",
                        help="skip the onnx.checker + ONNX Runtime comparison with PyTorch")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from phaze.export.run import export_model_dir  # imports torch: keep --help light

    report = export_model_dir(args.model_dir, args.output, args.direction, args.format,
                              args.exporter, args.opset, verify=not args.no_verify)
    checked = ("" if report.max_abs_diff is None
               else f", max |ONNX Runtime - PyTorch| = {report.max_abs_diff:.1e}")
    print(f"wrote {report.path} ({report.exporter} exporter, opset {report.opset}, input "
          f"{report.input_size} px, outputs {'/'.join(report.output_names)} at "
          f"{report.output_size} px{checked})")
    return 0
