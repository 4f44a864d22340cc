"""The timeline's exposure per agent: sessions of one agent (same kind, worktree, branch) add up."""

from __future__ import annotations

from oncall_tui.core.agent_identity import session_agent_id
from oncall_tui.core.agents import AgentKind, AgentSession
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.timeline.report import agent_exposure
from oncall_tui.core.timeline.schema import ExposureRecord
from tests.factories import at


def session(session_id: str, kind: AgentKind, branch: str) -> AgentSession:
    return AgentSession(
        id=session_id,
        agent=kind,
        repo="acme-payments/payments-api",
        branch=branch,
        first_seen=at(0),
        last_seen=at(1),
    )


def exposed(session_id: str, missing_s: float, current_s: float) -> ExposureRecord:
    return ExposureRecord(
        session_id=session_id,
        missing_s=missing_s,
        stale_s=0,
        current_s=current_s,
        intervals=[],
        summary="",
    )


def test_sessions_of_one_agent_are_counted_together() -> None:
    tables = MemoryTables()
    first = session("cc-1", AgentKind.CLAUDE_CODE, "fix/retry")
    resumed = session("cc-2", AgentKind.CLAUDE_CODE, "fix/retry")
    other = session("codex-1", AgentKind.CODEX, "fix/retry")
    for s in (first, resumed, other):
        tables.sessions[s.id] = s
    records = [exposed("cc-1", 600, 0), exposed("cc-2", 60, 300), exposed("codex-1", 0, 900)]
    by_agent = agent_exposure(records, tables)
    assert [(a.agent_id, a.agent, a.sessions) for a in by_agent] == [
        (session_agent_id(first), "claude-code", ["cc-1", "cc-2"]),
        (session_agent_id(other), "codex", ["codex-1"]),
    ]
    assert (by_agent[0].missing_s, by_agent[0].current_s) == (660, 300)
    assert (by_agent[1].missing_s, by_agent[1].current_s) == (0, 900)
