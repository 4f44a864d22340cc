"""One wording for every validation problem: a config file, an environment variable, a
request body, a theme file or a context document all say what is wrong the same way.

Pydantic's own messages name its internals ("Input should be a valid integer, unable to parse
string as an integer"); a person fixing a config file wants "expected an integer, got "abc"".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from oncall_tui.core.sanitize import display_text

SHOWN_INPUT_LIMIT = 40
"""A quoted input stays short: it is there to be recognised, not read."""

_EXPECTED = {
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "list_type": "expected a list",
    "dict_type": "expected a table",
    "model_type": "expected a table",
    "model_attributes_type": "expected a table",
    "missing": "required, but missing",
    "json_invalid": "not valid JSON",
    "url_parsing": "expected a URL",
    "datetime_parsing": "expected a date and time (ISO 8601)",
    "datetime_from_date_parsing": "expected a date and time (ISO 8601)",
}

_BOUNDS = {
    "greater_than": ("must be greater than", "gt"),
    "greater_than_equal": ("must be at least", "ge"),
    "less_than": ("must be less than", "lt"),
    "less_than_equal": ("must be at most", "le"),
    "string_too_long": ("at most this many characters:", "max_length"),
    "string_too_short": ("at least this many characters:", "min_length"),
    "too_long": ("at most this many items:", "max_length"),
    "too_short": ("at least this many items:", "min_length"),
}

_SHOWS_INPUT = frozenset({"int_parsing", "float_parsing", "bool_parsing", "literal_error"})
"""Problems where the text given is what needs seeing (``"abc"`` for a port). Nowhere else is
the input quoted: a number given as a secret must not reach the terminal or a log."""


def describe_problem(error: Mapping[str, Any], *, show_input: bool = True) -> str:
    """What is wrong with one value, in our words: ``expected an integer, got "abc"``.

    ``error`` is one item of ``ValidationError.errors()`` (with ``input`` and ``ctx`` kept).
    ``show_input=False`` is for secrets: the rule broken is said, never the value.
    """
    kind = str(error.get("type", ""))
    ctx: Mapping[str, Any] = error.get("ctx") or {}
    if kind in _EXPECTED:
        text = _EXPECTED[kind]
    elif kind in _BOUNDS:
        words, key = _BOUNDS[kind]
        text = f"{words} {ctx.get(key)}"
    elif kind == "literal_error":
        text = f"expected one of {ctx.get('expected', '?')}"
    elif kind == "extra_forbidden":
        text = "unknown key"
    elif kind in ("value_error", "assertion_error") and "error" in ctx:
        # A validator of ours raised it: its message is already in our words.
        text = str(ctx["error"])
    else:
        text = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    if show_input and kind in _SHOWS_INPUT and isinstance(error.get("input"), str | int | float):
        text += f", got {_quoted(error['input'])}"
    return text


def location(loc: Sequence[int | str]) -> str:
    """``server.port``, ``sources.pagerduty.secret``; list items as ``[2]``."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part != "[key]":
            text += f".{part}" if text else str(part)
    return text


def _quoted(value: object) -> str:
    if isinstance(value, str):
        shown = display_text(value, SHOWN_INPUT_LIMIT)
        return '"' + shown.replace('"', '\\"') + '"'
    return str(value)
