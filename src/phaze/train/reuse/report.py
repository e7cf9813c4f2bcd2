"""Rank the finished recipes and write the comparison as reuse.md and reuse.json."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

from phaze.io.images import write_bytes_atomic

COLUMNS = (  # (heading, how to read it from a ranked row)
    ("rank", lambda r: str(r["rank"])),
    ("recipe", lambda r: f"`{r['recipe']}`"),
    ("loaded (frozen)", lambda r: _loaded(r)),
    ("A→B identity share", lambda r: _num(r, "a-to-b", "identity_share", 2)),
    ("A→B margin", lambda r: _num(r, "a-to-b", "identity_margin", 3)),
    ("landmark error % IOD", lambda r: _num(r, "a-to-b", "landmark_error_percent_iod", 1)),
    ("SSIM A", lambda r: _fmt(r["figures"]["reconstruction_ssim"]["a"], 3)),
    ("SSIM B", lambda r: _fmt(r["figures"]["reconstruction_ssim"]["b"], 3)),
    ("leak share A→B", lambda r: _leak(r, "a-to-b")),
    ("leak share B→A", lambda r: _leak(r, "b-to-a")),
    ("final loss", lambda r: _fmt(r["final_loss"], 4)),
    ("iterations to baseline loss", lambda r: "never" if r["iterations_to_baseline"] is None
     else str(r["iterations_to_baseline"])),
    ("wall s", lambda r: f"{r['wall_s']:.0f}"),
)


def _fmt(value: float | None, digits: int) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _num(row: dict, direction: str, key: str, digits: int) -> str:
    return _fmt(row["figures"]["directions"][direction][key], digits)


def _leak(row: dict, direction: str) -> str:
    leakage = row["figures"].get("leakage")
    return "n/a" if not leakage else _fmt(leakage[direction]["share"], 2)


def _loaded(row: dict) -> str:
    if not row["load"]:
        return "—"
    return ", ".join(f"{name} (frozen)" if name in row["freeze"] else name
                     for name in row["load"])


def rank_key(row: dict) -> tuple:
    """Best first: A→B identity margin (swaps that look like B), then mean reconstruction
    SSIM, then final loss. A missing identity figure ranks below any measured one."""
    margin = row["figures"]["directions"]["a-to-b"]["identity_margin"]
    ssim = row["figures"]["reconstruction_ssim"]
    loss = row["final_loss"]
    return (margin is None, -(margin or 0.0), -(ssim["a"] + ssim["b"]) / 2,
            float("inf") if loss is None else loss)


def ranked(rows: Sequence[dict]) -> list[dict]:
    ordered = sorted(rows, key=rank_key)
    return [dict(row, rank=index) for index, row in enumerate(ordered, start=1)]


def markdown(report: dict[str, Any]) -> str:
    """The ranked table, the skipped recipes with their reasons and the checks, as Markdown."""
    lines = [f"# Reuse experiment: {report['config']['old_model']}", "",
             f"New pair: A = `{report['config']['faces_a']}`, B = `{report['config']['faces_b']}`"
             f"; {report['config']['iterations']} iterations per recipe, seed "
             f"{report['config']['seed']}, {report['held_out']['a']} + "
             f"{report['held_out']['b']} held-out faces scored.", "",
             *([f"Command: `{report['command']}`", ""] if report.get("command") else []),
             "| " + " | ".join(h for h, _ in COLUMNS) + " |",
             "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(cell(row) for _, cell in COLUMNS) + " |"
              for row in report["ranking"]]
    lines += ["", f"Best: `{report['best']}` (model kept in `{report['best_model_dir']}`)."]
    if report["skipped"]:
        lines += ["", "Skipped:"]
        lines += [f"- `{s['name']}`: {s['reason']}" for s in report["skipped"]]
    checks = report["checks"]
    lines += ["", f"Checks: every recipe trained on the same stream: "
                  f"{'yes' if checks['same_stream'] else 'NO'}; every fresh sub-model started "
                  f"from the same weights and every loaded one from the old model's: "
                  f"{'yes' if checks['same_start'] else 'NO'}.", "",
              "Ranked by A→B identity margin, then mean reconstruction SSIM. Leak share: "
              "the share of swaps nearer the OLD A's identity than the one they should show "
              "(A→B: B; B→A: the new A). Loss: mean of both sides' training losses."]
    return "\n".join(lines) + "\n"


def write_report(folder: Path, report: dict[str, Any]) -> None:
    """reuse.json and reuse.md in `folder`, each written whole (temp file, then rename)."""
    write_bytes_atomic(folder / "reuse.json", json.dumps(report, indent=2).encode())
    write_bytes_atomic(folder / "reuse.md", markdown(report).encode())
