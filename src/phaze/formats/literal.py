"""Parse untrusted Python-literal text (faceswap's repr metadata) without executing anything."""
from __future__ import annotations

import ast
from typing import Any

from phaze.io.limits import current_limits, env_name

MAX_TEXT_CHARS = 16 * 2**20   # masks and identities included, real headers are a few hundred KiB
MAX_DEPTH = 12                # faceswap's deepest value is alignments → mask → name → matrix row
_LEAVES = (ast.Constant,)
_CONTAINERS = (ast.Dict, ast.List, ast.Tuple)


class LiteralError(ValueError):
    """The text is not a plain, size- and depth-limited Python literal."""


def parse_literal(text: str, max_chars: int = MAX_TEXT_CHARS, max_depth: int = MAX_DEPTH,
                  max_nodes: int | None = None) -> Any:
    """The value of `text` if it holds only literals (dicts, lists, tuples, str, bytes, numbers).

    `max_nodes` (default: the metadata node budget) is checked before `ast.parse`, which
    needs about 1 KB per node: 16 MB of `0,0,0,...` would otherwise take 8 GB."""
    if len(text) > max_chars:
        raise LiteralError(f"text of {len(text)} characters exceeds the {max_chars} limit")
    _check_nodes(text, current_limits().max_metadata_nodes if max_nodes is None
                 else max_nodes)
    try:
        tree = ast.parse(text, mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise LiteralError(f"not a Python literal ({type(error).__name__})") from None
    _check(tree.body, 0, max_depth)
    return ast.literal_eval(tree)  # safe now: the tree holds nothing but literals


def _check_nodes(text: str, max_nodes: int) -> None:
    """LiteralError when `text` may hold more than `max_nodes` values. Every element needs a
    separator, bracket or quotes, so counting those characters (C-speed, no memory; strings'
    contents are counted too, which only over-estimates) bounds what `ast.parse` will build."""
    estimate = (sum(text.count(mark) for mark in ",:[({")
                + (text.count("'") + text.count('"')) // 2)
    if estimate > max_nodes:
        raise LiteralError(f"about {estimate} values, more than the {max_nodes} limit (raise "
                           f"it with {env_name('max_metadata_nodes')}=<count>)")


def _check(node: ast.AST, depth: int, max_depth: int) -> None:
    if depth > max_depth:
        raise LiteralError(f"nesting deeper than {max_depth} levels")
    if isinstance(node, _LEAVES):
        if not isinstance(node.value, (str, bytes, int, float, bool, type(None))):
            raise LiteralError(f"constant of type {type(node.value).__name__} is not allowed")
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        if isinstance(node.operand, ast.Constant) and isinstance(node.operand.value, (int, float)):
            return
    if isinstance(node, ast.Dict):
        if any(key is None for key in node.keys):
            raise LiteralError("dict unpacking (**) is not allowed")
        for child in (*node.keys, *node.values):
            _check(child, depth + 1, max_depth)
        return
    if isinstance(node, (ast.List, ast.Tuple)):
        for child in node.elts:
            _check(child, depth + 1, max_depth)
        return
    raise LiteralError(f"{type(node).__name__} expressions are not allowed (only literals)")
