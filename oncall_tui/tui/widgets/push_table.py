"""The pushes pane: what is waiting for a decision, newest first."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from oncall_tui.core.agents import Push
from oncall_tui.core.clock import age
from oncall_tui.tui.format import cell, colored, short
from oncall_tui.tui.widgets.synced_table import Row, SyncedTable


class PushTable(SyncedTable):
    COLUMNS = (
        ("id", "Push", 5),
        ("state", "State", 7),
        ("target", "For", 18),
        ("age", "Age", 4),
        ("kind", "Kind", 10),
        ("trigger", "Because", 60),
    )


def push_rows(pushes: list[Push], now: datetime, palette: Mapping[str, str]) -> list[Row]:
    return [
        (
            p.id,
            (
                cell(p.id),
                colored(short(p.state.value), palette, f"push-{p.state.value}"),
                cell(p.session_id or f"{len(p.recipients)} sessions", limit=60),
                cell(age(p.proposed_at, now)),
                cell(p.kind.value),
                cell(f"{p.incident_id}: {p.trigger}", limit=160),
            ),
        )
        for p in pushes
    ]
