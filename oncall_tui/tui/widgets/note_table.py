"""The notes list: agents' pending notes first, then stale ones, then the rest."""

from __future__ import annotations

from collections.abc import Mapping

from oncall_tui.core.note_review import ReviewGroup, ReviewItem
from oncall_tui.tui.column_fit import ColumnSpec
from oncall_tui.tui.format import cell, colored
from oncall_tui.tui.widgets.synced_table import Row, SyncedTable

GROUP_COLOURS = {
    ReviewGroup.PENDING: "push-pending",
    ReviewGroup.STALE: "sev-critical",
    ReviewGroup.CURRENT: "session-idle",
}
"""Theme variables: what waits on the engineer stands out, current notes step back."""


class NoteTable(SyncedTable):
    COLUMNS = (
        ColumnSpec("id", "Note", 4, 8),
        ColumnSpec("state", "State", 7, 9),
        ColumnSpec("kind", "Kind", 8, 8, priority=2),
        ColumnSpec("service", "Service", 8, 30, priority=1),
        ColumnSpec("author", "Author", 8, 30, priority=3),
        ColumnSpec("text", "Note", 12, 200, priority=1, grows=True),
    )


def state_label(item: ReviewItem) -> str:
    """``proposal`` for a pending note that would replace another, else the group's name."""
    if item.group is ReviewGroup.PENDING and item.replaces is not None:
        return "proposal"
    return item.group.value


def note_rows(items: list[ReviewItem], palette: Mapping[str, str]) -> list[Row]:
    """One row per note; every agent-written string is sanitised by :func:`cell`."""
    return [
        (
            item.note.id,
            (
                cell(item.note.id),
                colored(state_label(item), palette, GROUP_COLOURS[item.group]),
                cell(item.note.kind.value),
                cell(item.note.service or item.note.incident_id or "-", limit=30),
                cell(item.note.author, limit=30),
                cell(item.note.text),
            ),
        )
        for item in items
    ]
