"""The options reference, made from the options' field metadata: `docs/options.md` and
`phaze options` print the same words as the web page shows."""
from __future__ import annotations

import json

from phaze.config.options import OPTION_FIELDS, PhazeAOptions
from phaze.config.parse import describe_allowed

INTRO = """\
# Options reference

Every option that shapes a Phaze-A network. The names, defaults and ranges are faceswap's.
Numbers may be anything in the range: values off faceswap's GUI step are accepted, because the presets use them.
All options are fixed when a model is created and saved with it. Options marked *updatable* can be changed when you resume.
`phaze options` prints this table in the terminal; `phaze options --markdown` writes this page.
"""


def _default_text(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(value)
    return json.dumps(value) if isinstance(value, bool) else str(value)


def options_markdown() -> str:
    """docs/options.md: one table per option group, in the fields' order."""
    defaults = PhazeAOptions().to_dict()
    lines, group = [INTRO], None
    for name, field in OPTION_FIELDS.items():
        meta = field.metadata
        if meta["group"] != group:
            group = meta["group"]
            lines += ["", f"## {group}", "", "| option | default | allowed | effect |",
                      "|---|---|---|---|"]
        tag = " *updatable*" if meta["updatable"] else ""
        lines.append(f"| `{name}` | `{_default_text(defaults[name])}` | "
                     f"{describe_allowed(meta)} | {meta['help']}{tag} |")
    return "\n".join(lines) + "\n"


def options_text() -> str:
    """`phaze options`: name, default, allowed values, and the help on the next line."""
    defaults = PhazeAOptions().to_dict()
    rows = []
    for name, field in OPTION_FIELDS.items():
        meta = field.metadata
        tag = " (changeable on resume)" if meta["updatable"] else ""
        rows.append(f"{name:<26}default {defaults[name]!r:<18}{describe_allowed(meta)}{tag}\n"
                    f"{'':<26}{meta['help']}")
    return "\n".join(rows)
