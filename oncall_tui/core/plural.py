"""Counts in words: "1 active incident", "2 active incidents", "0 pending pushes"."""

from __future__ import annotations

_IRREGULAR = {"push": "pushes", "entry": "entries", "delivery": "deliveries", "match": "matches"}
"""Last words that do not take a plain ``s``."""


def plural(noun: str) -> str:
    """The plural of ``noun``, a word or a phrase whose last word is the one counted."""
    head, _, last = noun.rpartition(" ")
    word = _IRREGULAR.get(last, last + "s")
    return f"{head} {word}" if head else word


def counted(count: int, noun: str, plural_form: str | None = None) -> str:
    """``count`` and ``noun``, the noun made plural unless the count is exactly one."""
    if count == 1:
        return f"{count} {noun}"
    return f"{count} {plural_form or plural(noun)}"
