"""The sessions pane: the agent sessions the selected incident affects, and why."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from oncall_tui.core.clock import age
from oncall_tui.store.dashboard import SessionRow
from oncall_tui.tui.format import cell, colored, short
from oncall_tui.tui.widgets.synced_table import Row, SyncedTable


class SessionTable(SyncedTable):
    COLUMNS = (
        ("agent", "Agent", 6),
        ("id", "Session", 16),
        ("push", "Push", 7),
        ("seen", "Context", 7),
        ("repo", "Repo @branch", 18),
        ("task", "Working on", 18),
        ("why", "Why affected", 80),
    )


def session_rows(rows: list[SessionRow], now: datetime, palette: Mapping[str, str]) -> list[Row]:
    result: list[Row] = []
    for row in rows:
        s, push = row.session, row.push
        where = f"{s.repo or s.cwd or '-'}" + (f" @{s.branch}" if s.branch else "")
        result.append(
            (
                s.id,
                (
                    cell(short(s.agent.value)),
                    cell(s.id, limit=60),
                    colored(short(push.state.value), palette, f"push-{push.state.value}")
                    if push
                    else cell("-"),
                    cell(age(s.last_context_at, now) if s.last_context_at else "never"),
                    cell(where, limit=80),
                    cell(s.task or "-", limit=80),
                    cell(push.reason if push else "", limit=200),
                ),
            )
        )
    return result
