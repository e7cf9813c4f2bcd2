"""The design page's evaluate answers, remembered within a byte budget.

Toggling an option back and forth is common, and a timm design takes tenths of a second to
build on meta, so recent answers are kept; but a page (or anyone with the token) can send large
distinct bodies, so what is kept is bounded in bytes, not in entries.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable


class ByteBoundedCache:
    """Least-recently-used str → str cache holding at most `max_bytes` of keys and values;
    an entry larger than `max_entry_bytes` is computed but never kept."""

    def __init__(self, compute: Callable[[str], str], max_bytes: int = 8 * 2**20,
                 max_entry_bytes: int = 2**20) -> None:
        self.compute, self.max_bytes, self.max_entry_bytes = compute, max_bytes, max_entry_bytes
        self.entries: OrderedDict[str, str] = OrderedDict()
        self.size_bytes = 0

    def __call__(self, key: str) -> str:
        if key in self.entries:
            self.entries.move_to_end(key)
            return self.entries[key]
        value = self.compute(key)
        cost = len(key) + len(value)
        if cost <= self.max_entry_bytes:
            self.entries[key] = value
            self.size_bytes += cost
            while self.size_bytes > self.max_bytes:
                old_key, old_value = self.entries.popitem(last=False)
                self.size_bytes -= len(old_key) + len(old_value)
        return value
