"""Every edit-guard decision, journalled once: asked, denied, or allowed after an ask.

The judging side runs on the hook's fast path with plain SQL (the ``guard_decisions`` and
``guard_allowances`` projection tables, :mod:`~oncall_tui.store.hook_queries`), so it says
whether a record is due without importing the journal's models; only a due record opens the
store (:func:`journal_records`). The same decision within :data:`REPEAT_WINDOW` is one entry: an
agent retrying a refused call in a loop must not flood the journal.
"""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from fnmatch import fnmatchcase

from oncall_tui.agents.hook.edit_guard import GuardFinding, edit_finding
from oncall_tui.agents.hook.model import HookInput
from oncall_tui.core.frozen import Frozen
from oncall_tui.store import hook_queries

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Final

    from oncall_tui.store.journal import Store

ASKED = "asked"
DENIED = "denied"
ALLOWED_AFTER_ASK = "allowed-after-ask"
"""The stored values of ``GuardDecision`` (the enum needs pydantic's import, too slow here)."""
DENY_ONLY_AGENTS = frozenset({"codex", "gemini"})
"""Agents whose hooks cannot ask the engineer: a guarded call is denied instead."""
REPEAT_WINDOW = timedelta(seconds=60)
ASK_WINDOW = timedelta(minutes=5)
"""How long after an ask a write of the same file counts as the engineer's yes."""
MAX_PATHS = 20
"""``MAX_GUARD_PATHS`` of the journal."""


class GuardRecord(Frozen):
    """A ``guard.decided`` entry waiting to be written."""

    __slots__ = ("session_id", "incident_id", "decision", "tool", "paths", "service", "agent")

    def __init__(
        self,
        session_id: str,
        incident_id: str,
        decision: str,
        tool: str,
        paths: tuple[str, ...],
        service: str,
        agent: str,
    ) -> None:
        self.session_id: Final = session_id
        self.incident_id: Final = incident_id
        self.decision: Final = decision
        self.tool: Final = tool
        self.paths: Final = paths
        self.service: Final = service
        self.agent: Final = agent


def allowed_by(path: str, globs: list[str]) -> bool:
    """Whether an override glob covers ``path`` (``*`` crosses ``/``; ``dir/`` is the tree)."""
    return any(
        fnmatchcase(path, glob) or (glob.endswith("/") and path.startswith(glob)) for glob in globs
    )


def judge(
    conn: sqlite3.Connection,
    hook: HookInput,
    repo: str | None,
    paths: list[str],
    now: datetime,
    *,
    remember: bool = True,
) -> tuple[str | None, GuardRecord | None]:
    """The guard's reason for a tool call (None: let it run) and the record now due, if any.

    Paths an engineer's override covers are let through; when that leaves nothing guarded the
    call runs and is recorded as allowed after the ask.
    """
    finding = edit_finding(conn, hook.session_id, repo, paths, remember=remember)
    if finding is None:
        return None, None
    globs = hook_queries.guard_allowances(conn, hook.session_id, now)
    if globs:
        left = [p for p in paths if not allowed_by(p, globs)]
        rest = edit_finding(conn, hook.session_id, repo, left, remember=remember)
        if rest is None:
            return None, _unless_repeated(
                conn, _record(hook, finding, ALLOWED_AFTER_ASK), now - REPEAT_WINDOW
            )
        finding = rest
    decision = DENIED if hook.agent in DENY_ONLY_AGENTS else ASKED
    return finding.reason, _unless_repeated(
        conn, _record(hook, finding, decision), now - REPEAT_WINDOW
    )


def after_write(
    conn: sqlite3.Connection, hook: HookInput, paths: list[str], now: datetime
) -> list[GuardRecord]:
    """The tool call ran: the files it wrote that were asked about in this session within
    :data:`ASK_WINDOW` were allowed by the engineer (once per ask)."""
    if not paths:
        return []
    written = set(paths)
    rows = hook_queries.guard_decisions_since(conn, hook.session_id, now - ASK_WINDOW)
    records: list[GuardRecord] = []
    for row in rows:
        covered = tuple(p for p in row.paths if p in written)
        if row.decision != ASKED or not covered:
            continue
        record = GuardRecord(
            hook.session_id,
            row.incident_id,
            ALLOWED_AFTER_ASK,
            row.tool,
            covered,
            row.service,
            hook.agent,
        )
        due = _unless_repeated(conn, record, row.at)
        if due is not None and due not in records:
            records.append(due)
    return records


def journal_records(store: Store, records: list[GuardRecord]) -> None:
    """Append the records in one write transaction."""
    from oncall_tui.core.journal import GuardDecided

    with store.write() as writer:
        for r in records:
            body = GuardDecided(
                session_id=r.session_id,
                incident_id=r.incident_id,
                decision=r.decision,
                tool=r.tool,
                paths=list(r.paths),
                service=r.service,
                agent=r.agent,
            )
            writer.append(body, actor=f"agent:{r.session_id}")


def _record(hook: HookInput, finding: GuardFinding, decision: str) -> GuardRecord:
    return GuardRecord(
        session_id=hook.session_id,
        incident_id=finding.incident_id,
        decision=decision,
        tool=hook.action.kind.value,
        paths=finding.paths[:MAX_PATHS],
        service=finding.service,
        agent=hook.agent,
    )


def _unless_repeated(
    conn: sqlite3.Connection, record: GuardRecord, since: datetime
) -> GuardRecord | None:
    """``record``, unless the same decision was journalled at or after ``since``."""
    last = hook_queries.guard_decided_at(
        conn, record.session_id, record.incident_id, record.tool, record.paths, record.decision
    )
    return None if last is not None and last >= since else record
