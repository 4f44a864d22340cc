"""The pushes pane: what is waiting for a decision, newest first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from oncall_tui.core.agents import Push
from oncall_tui.core.clock import age
from oncall_tui.tui.column_fit import ColumnSpec
from oncall_tui.tui.format import cell, colored, short
from oncall_tui.tui.widgets.synced_table import Row, SyncedTable


class PushTable(SyncedTable):
    COLUMNS = (
        ColumnSpec("id", "Push", 4, 8),
        ColumnSpec("kind", "Kind", 6, 10, priority=1),
        ColumnSpec("target", "For", 10, 60, priority=1, keep_width=30),
        ColumnSpec("state", "State", 7, 9, priority=2),
        ColumnSpec("age", "Age", 3, 5, priority=4),
        ColumnSpec("trigger", "Because", 12, 160, priority=3, grows=True),
    )


def push_rows(
    pushes: list[Push],
    now: datetime,
    palette: Mapping[str, str],
    session_labels: Mapping[str, str] | None = None,
) -> list[Row]:
    """One row per push; ``session_labels`` names sessions as ``repo@branch`` where known."""
    labels = session_labels or {}
    return [
        (
            p.id,
            (
                cell(p.id),
                cell(p.kind.value),
                cell(
                    labels.get(p.session_id, p.session_id)
                    if p.session_id
                    else f"{len(p.recipients)} sessions",
                    limit=60,
                ),
                colored(short(p.state.value), palette, f"push-{p.state.value}"),
                cell(age(p.proposed_at, now)),
                cell(f"{p.incident_id}: {p.trigger}", limit=160),
            ),
        )
        for p in pushes
    ]
