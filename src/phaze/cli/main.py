"""Entry point: one sub-command per module; user errors become one clear line and exit code 2."""
from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys

from phaze.errors import PhazeError

# Each module defines `register(subparsers)`; its parser sets `func(args) -> int | None`.
COMMAND_MODULES = ("design", "extract", "faces", "train", "swap", "convert", "export",
                   "import_faceswap", "score", "reuse", "ui", "mask")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="phaze", description="Phaze-A: build, inspect, train and use face-swap models.")
    parser.add_argument("-v", "--verbose", action="store_true", help="show debug logging")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"phaze.cli.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"phaze.cli.{name}":
                raise
            continue  # a command module not written yet
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    args.command_line = list(sys.argv[1:] if argv is None else argv)  # for re-launching
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(levelname)s %(message)s")
    try:
        return int(args.func(args) or 0)
    except PhazeError as error:
        print(f"{_program()}: error: {error}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into `head` and closed early
        sys.stderr.close()
        return 0
    except KeyboardInterrupt:
        print("phaze: interrupted", file=sys.stderr)
        return 130


def _program() -> str:
    """"phaze", or "phaze[rank N]" in one of several training processes."""
    rank = os.environ.get("RANK") if os.environ.get("WORLD_SIZE", "1") != "1" else None
    return f"phaze[rank {rank}]" if rank is not None else "phaze"


if __name__ == "__main__":
    sys.exit(main())
