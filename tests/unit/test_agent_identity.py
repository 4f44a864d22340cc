"""One agent across sessions: the id, and the guidance a new session of it starts with (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from oncall_tui.core.agent_handover import SAME_AGENT_RULE, handover_events
from oncall_tui.core.agent_identity import agent_id, session_agent_id, sessions_of_agent
from oncall_tui.core.agents import AgentKind, AgentSession, Push, PushKind, PushState
from oncall_tui.core.journal import PushApproved, PushProposed

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def session(session_id: str, **fields: object) -> AgentSession:
    base: dict[str, object] = {
        "id": session_id,
        "agent": AgentKind.CLAUDE_CODE,
        "repo": "acme-payments/payments-api",
        "branch": "feat/retry-budget",
        "first_seen": NOW,
        "last_seen": NOW,
    }
    return AgentSession.model_validate({**base, **fields})


def push(number: int, session_id: str, state: PushState, **fields: object) -> Push:
    base: dict[str, object] = {
        "id": f"P-{number}",
        "number": number,
        "incident_id": "INC-1",
        "session_id": session_id,
        "kind": PushKind.UPDATE,
        "state": state,
        "trigger": "incident opened",
        "guidance": f"guidance v{number}",
        "proposed_at": NOW,
        "basis": {"state": "triggered"},
    }
    return Push.model_validate({**base, **fields})


def test_kind_worktree_and_branch_make_the_agent() -> None:
    first, resumed = session("s-1"), session("s-2")
    assert session_agent_id(first) == session_agent_id(resumed)
    assert session_agent_id(first).startswith("A-")
    assert session_agent_id(session("s-3", branch="main")) != session_agent_id(first)
    assert session_agent_id(session("s-4", agent=AgentKind.CODEX)) != session_agent_id(first)
    assert agent_id("codex", "/src/app/", "main") == agent_id("codex", "/src/app", "main")


def test_without_a_repository_the_directory_is_the_worktree() -> None:
    here = session("s-1", repo=None, cwd="/src/app")
    assert session_agent_id(here) == session_agent_id(session("s-2", repo=None, cwd="/src/app"))
    assert session_agent_id(here) != session_agent_id(session("s-3", repo=None, cwd="/src/web"))


def test_sessions_that_name_no_place_are_agents_of_their_own() -> None:
    lone = session("s-1", repo=None, branch=None)
    assert session_agent_id(lone) != session_agent_id(session("s-2", repo=None, branch=None))


def test_sessions_of_an_agent_oldest_first() -> None:
    later = session("s-2", first_seen=NOW.replace(hour=4), last_seen=NOW.replace(hour=4))
    other = session("s-3", branch="main")
    assert [s.id for s in sessions_of_agent([later, other, session("s-1")], later)] == [
        "s-1",
        "s-2",
    ]


def test_the_current_version_of_the_live_guidance_is_carried_approved() -> None:
    pushes = [
        push(1, "s-1", PushState.SUPERSEDED),
        push(3, "s-1", PushState.DELIVERED, edited_by="user:alice"),
        push(4, "s-1", PushState.PENDING),  # not approved: nothing the agent was told
    ]
    events = handover_events(session("s-2"), {"s-1"}, pushes, 9, NOW)
    assert len(events) == 2
    proposed, approved = events
    assert isinstance(proposed, PushProposed) and isinstance(approved, PushApproved)
    carried = proposed.push
    assert (carried.id, carried.session_id, carried.guidance) == ("P-9", "s-2", "guidance v3")
    assert carried.basis == {"state": "triggered"} and carried.edited_by == "user:alice"
    assert (approved.push_id, approved.rule) == ("P-9", SAME_AGENT_RULE)


def test_nothing_is_carried_twice_or_from_other_agents() -> None:
    told = push(3, "s-1", PushState.APPROVED)
    assert (
        handover_events(session("s-2"), {"s-1"}, [told, push(5, "s-2", PushState.PENDING)], 9, NOW)
        == []
    )
    assert handover_events(session("s-2"), {"s-7"}, [told], 9, NOW) == []
    stand_down = push(6, "s-1", PushState.APPROVED, kind=PushKind.STAND_DOWN)
    assert handover_events(session("s-2"), {"s-1"}, [stand_down], 9, NOW) == []
