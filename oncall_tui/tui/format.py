"""Turning data into table cells: every sender string passes through the sanitiser here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text

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
