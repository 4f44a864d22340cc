"""The sessions pane: the agent sessions the selected incident affects, and why.

A session is named the way people know it: by ``repo@branch`` and what it is working on, with
the agent kind. Its id (a UUID to most agents) is for the session detail screen.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from oncall_tui.core.agents import AgentSession
from oncall_tui.core.clock import age
from oncall_tui.store.dashboard import SessionRow
from oncall_tui.tui.column_fit import ColumnSpec
from oncall_tui.tui.format import cell, colored, short
from oncall_tui.tui.widgets.synced_table import Row, SyncedTable


class SessionTable(SyncedTable):
    COLUMNS = (
        ColumnSpec("agent", "Agent", 6, 8, priority=1),
        ColumnSpec("where", "Repo@branch", 10, 60, keep_width=30),
        ColumnSpec("task", "Working on", 10, 80, keep_width=24),
        ColumnSpec("push", "Push", 7, 9, priority=2),
        ColumnSpec("seen", "Context", 5, 7, priority=4),
        ColumnSpec("why", "Why affected", 12, 200, priority=3, grows=True),
    )


def session_label(session: AgentSession) -> str:
    """``repo@branch`` as people say it: the repository's name without its owner (the branch
    is what tells sessions apart, so it must not be the part an ellipsis eats), else the name
    of its directory. The full ``owner/name`` is in the session detail screen."""
    where = session.repo or session.cwd or "-"
    name = where.rstrip("/").rsplit("/", 1)[-1] or where
    return f"{name}@{session.branch}" if session.branch else name


def working_on(session: AgentSession) -> str:
    """The task line, else the first file it touched (the clearest hint of the work)."""
    return session.task or (session.paths[0] if session.paths else "-")


def session_rows(rows: list[SessionRow], now: datetime, palette: Mapping[str, str]) -> list[Row]:
    result: list[Row] = []
    for row in rows:
        s, push = row.session, row.push
        result.append(
            (
                s.id,
                (
                    cell(short(s.agent.value)),
                    cell(session_label(s), limit=80),
                    cell(working_on(s), limit=80),
                    colored(short(push.state.value), palette, f"push-{push.state.value}")
                    if push
                    else cell("-"),
                    cell(age(s.last_context_at, now) if s.last_context_at else "never"),
                    cell(push.reason if push else "", limit=200),
                ),
            )
        )
    return result
