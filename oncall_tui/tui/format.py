"""Turning data into cells and labels: every sender string passes through the sanitiser here.

Textual parses a ``str`` given to a Label, a Static, a border title or a palette hit as markup:
a sender's ``api[/]`` would crash the screen and ``[link="..."]`` would draw the attacker's
hyperlink. Sender text therefore reaches widgets only as ``Text`` or ``Content`` built here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.content import Content

from oncall_tui.core.sanitize import display_text

SPARK_BARS = "▁▂▃▄▅▆▇█"
SHORT = {
    "critical": "crit",
    "error": "err",
    "warning": "warn",
    "triggered": "trig",
    "acknowledged": "ack",
    "mitigated": "mitig",
    "resolved": "res",
    "claude-code": "claude",
    "superseded": "supersd",
}
"""Narrow panes show these; details screens spell words out."""


def short(word: str) -> str:
    return SHORT.get(word, word)


def cell(value: object, style: str = "", limit: int = 200) -> Text:
    """Plain text for a cell: sanitised, never parsed as markup."""
    return Text(display_text(value, limit), style=style, no_wrap=True, overflow="ellipsis")


def plain(value: object, limit: int | None = 300) -> Content:
    """One line for a label, a title or a toast: sanitised, shown exactly as written."""
    return Content(display_text(value, limit))


def colored(
    value: object, palette: Mapping[str, str], variable: str, *, bold: bool = False
) -> Text:
    """A cell coloured by a theme variable (``sev-critical``...), so themes decide the colours."""
    color = palette.get(variable, "")
    return cell(value, f"bold {color}" if bold else color)


def sparkline(values: Sequence[int]) -> str:
    if not values or max(values) == 0:
        return SPARK_BARS[0] * len(values)
    top = max(values)
    return "".join(
        SPARK_BARS[min(len(SPARK_BARS) - 1, (v * (len(SPARK_BARS) - 1) + top - 1) // top)]
        for v in values
    )
