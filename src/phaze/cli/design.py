"""Design commands: summary, presets, save-preset, options, encoders, curve."""
from __future__ import annotations

import argparse
import json

from phaze.config.options import PhazeAOptions
from phaze.config.presets import list_presets, options_from_design_flags, save_preset
from phaze.errors import ConfigError


def add_design_arguments(parser: argparse.ArgumentParser) -> None:
    """--preset / --config / --set: shared by every command that takes a design."""
    parser.add_argument("--preset", help="a built-in preset name or a preset file path")
    parser.add_argument("--config", help="a TOML file of options (applied after the preset)")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="NAME=VALUE",
                        help="override one option (repeatable)")


def options_from_args(args: argparse.Namespace) -> PhazeAOptions:
    return options_from_design_flags(args.preset, args.config, args.sets)


def register(subparsers: argparse._SubParsersAction) -> None:
    summary = subparsers.add_parser("summary", help="print a design's shapes, parameter "
                                    "counts and routes (no data needed)")
    add_design_arguments(summary)
    summary.add_argument("--json", action="store_true", help="print JSON instead of a table")
    summary.add_argument("--batch-size", type=int, default=None,
                         help="also estimate training memory at this batch size")
    summary.set_defaults(func=run_summary)

    presets = subparsers.add_parser("presets", help="list the built-in presets")
    presets.set_defaults(func=run_presets)

    save = subparsers.add_parser("save-preset", help="save options as a preset file")
    add_design_arguments(save)
    save.add_argument("path", help="the TOML file to write")
    save.add_argument("--description", default="", help="one-line description")
    save.set_defaults(func=run_save_preset)

    options = subparsers.add_parser("options", help="list every option with its default "
                                    "and allowed values")
    options.add_argument("--markdown", action="store_true",
                         help="print the reference as Markdown (docs/options.md)")
    options.set_defaults(func=run_options)

    encoders = subparsers.add_parser("encoders", help="list the encoder architectures")
    encoders.set_defaults(func=run_encoders)

    curve = subparsers.add_parser("curve", help="print (and plot) a filter curve")
    curve.add_argument("--min", dest="minimum", type=int, required=True)
    curve.add_argument("--max", dest="maximum", type=int, required=True)
    curve.add_argument("--slope", type=float, required=True)
    curve.add_argument("--steps", type=int, required=True)
    curve.add_argument("--mode", default="full", choices=("full", "cap_max", "cap_min"))
    curve.add_argument("--ascending", action="store_true",
                       help="run min → max (the FC orientation) instead of the decoder's max → min")
    curve.add_argument("--plot", help="write a PNG plot of the curve here")
    curve.set_defaults(func=run_curve)


def run_summary(args: argparse.Namespace) -> None:
    from phaze.model.summary import format_summary, summarize_options

    options = options_from_args(args)
    summary = summarize_options(options)
    estimate = None
    if args.batch_size is not None:
        estimate = _memory_estimate(options, args.batch_size)
    if args.json:
        payload = summary.to_dict()
        if estimate is not None:
            payload["memory_estimate"] = estimate
        print(json.dumps(payload, indent=2))
        return
    title = f"Phaze-A design ({args.preset or args.config or 'defaults'})"
    print(format_summary(summary, title))
    if estimate is not None:
        print(_format_memory(estimate))


def _memory_estimate(options: PhazeAOptions, batch_size: int) -> dict:
    if batch_size < 1:
        raise ConfigError(f"--batch-size must be at least 1, got {batch_size}")
    try:
        from phaze.train.memory import estimate_training_memory
    except ModuleNotFoundError:
        raise ConfigError("the memory estimate is not available in this build") from None
    return estimate_training_memory(options, batch_size)


def _format_memory(estimate: dict) -> str:
    lines = [f"training memory estimate at batch {estimate['batch_size']} per side:"]
    for key, value in estimate.items():
        if key.endswith("_bytes"):
            lines.append(f"  {key[:-6]:<14}{value / 2**30:8.2f} GiB")
    return "\n".join(lines)


def run_presets(args: argparse.Namespace) -> None:
    for preset in list_presets():
        print(f"{preset.name:<16}{preset.description}")


def run_save_preset(args: argparse.Namespace) -> None:
    path = save_preset(options_from_args(args), args.path, args.description)
    print(f"saved {path}; load it with --preset {path} or --config {path}")


def run_options(args: argparse.Namespace) -> None:
    from phaze.config.reference import options_markdown, options_text

    if args.markdown:
        print(options_markdown(), end="")
    else:
        print(options_text())


def run_encoders(args: argparse.Namespace) -> None:
    from phaze.model.encoders import ENCODERS

    for name in ENCODERS.names():
        spec = ENCODERS.get_entry(name)
        print(f"{name:<24}{spec.default_size:>5}px  {spec.input_range:<7}{spec.colour_order:<4}"
              f"{spec.description}")
    print("timm:<model name>       any timm model as a feature encoder (needs timm)")


def run_curve(args: argparse.Namespace) -> None:
    from phaze.model.curve import filter_curve

    if args.steps < 1:
        raise ConfigError(f"--steps must be at least 1, got {args.steps}")
    start, end = ((args.minimum, args.maximum) if args.ascending
                  else (args.maximum, args.minimum))
    values = filter_curve(start, end, args.steps, args.slope, args.mode)
    print(", ".join(map(str, values)))
    if args.plot:
        from phaze.model.curve_plot import plot_curve

        title = f"{start} -> {end}, slope {args.slope}, {args.mode}"
        print(f"plot written to {plot_curve(values, args.plot, title)}")
