"""How wide each table column is: from the width the pane has and what the cells hold.

Pure arithmetic, so it can be tested without a screen. The rule an engineer sees: the columns
that say which incident and how bad keep their width longest; the ones that only add colour
(age, rate) shrink first, then go; the free width goes to the column that reads best longer
(a title, a reason). Nothing is wider than the pane, so no table ever scrolls sideways.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SQUEEZED_BEFORE_HIDDEN = 1
"""Columns of this priority or more important are squeezed below their ``keep_width`` once
every less important column is hidden; the others are hidden first."""


@dataclass(frozen=True)
class ColumnSpec:
    """One column of a table, and how it behaves when space is short."""

    key: str
    label: str
    min_width: int
    """Narrower than this it says nothing useful: it is hidden instead."""
    max_width: int
    """Cells longer than this are cut with an ellipsis even when there is room."""
    priority: int = 0
    """0 keeps its width longest; higher numbers shrink first and are hidden first."""
    grows: bool = False
    """Takes the width left over once every column has what its content needs."""
    keep_width: int = 0
    """Less important columns are hidden before this one is cut below this width (a title
    stays readable rather than keep a sparkline); 0: its ``min_width``."""


@dataclass(frozen=True)
class ColumnFit:
    """The columns shown, by index into the specs, and the width of each."""

    shown: tuple[int, ...]
    widths: tuple[int, ...]


def fit_columns(
    specs: Sequence[ColumnSpec],
    content_widths: Sequence[int],
    available: int,
    padding: int = 1,
) -> ColumnFit:
    """Widths for ``specs`` within ``available`` cells, ``padding`` on each side of a column.

    First every column is cut to what keeps it readable (``keep_width``), the least important
    first, hiding the least important columns while that is not enough; when only the most
    important remain (``SQUEEZED_BEFORE_HIDDEN``) they are cut to ``min_width``, and only then
    hidden too.

    Args:
        specs: The columns, in display order.
        content_widths: The widest cell of each column (the label counts too).
        available: The cells the table may use; the result never needs more.
        padding: Cells either side of each column's content.

    Returns:
        The columns kept and their content widths, in display order.
    """
    wanted = [
        min(max(width, len(spec.label), spec.min_width), spec.max_width)
        for spec, width in zip(specs, content_widths, strict=True)
    ]
    keep = [max(spec.keep_width, spec.min_width) for spec in specs]
    minimum = [spec.min_width for spec in specs]
    shown = list(range(len(specs)))

    def least_important(columns: list[int]) -> int:
        return max(columns, key=lambda i: (specs[i].priority, i))

    widths = _shrunk(specs, wanted, keep, shown, available, padding)
    while (
        widths is None and shown and specs[least_important(shown)].priority > SQUEEZED_BEFORE_HIDDEN
    ):
        shown.remove(least_important(shown))
        widths = _shrunk(specs, wanted, keep, shown, available, padding)
    while widths is None and shown:
        widths = _shrunk(specs, wanted, minimum, shown, available, padding)
        if widths is None:
            shown.remove(least_important(shown))
    fitted = widths or {}
    growing = [i for i in shown if specs[i].grows]
    if growing:
        spare = available - sum(fitted[i] + 2 * padding for i in shown)
        fitted[growing[-1]] += max(0, spare)
    return ColumnFit(tuple(shown), tuple(fitted[i] for i in shown))


def _shrunk(
    specs: Sequence[ColumnSpec],
    wanted: Sequence[int],
    floor: Sequence[int],
    shown: list[int],
    available: int,
    padding: int,
) -> dict[int, int] | None:
    """The ``shown`` columns cut down to fit, none below its ``floor``; None if they cannot."""
    widths = {i: max(wanted[i], 0) for i in shown}
    over = sum(widths[i] + 2 * padding for i in shown) - available
    while over > 0:
        shrinkable = [i for i in shown if widths[i] > floor[i]]
        if not shrinkable:
            return None
        # The least important first; among equals the widest, so equals stay balanced.
        victim = max(shrinkable, key=lambda i: (specs[i].priority, widths[i], i))
        widths[victim] -= 1
        over -= 1
    return widths
