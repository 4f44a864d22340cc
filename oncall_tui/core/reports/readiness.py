"""Agent readiness: per agent kind, how well context reached sessions and what they did with it.

The 30-day view a rollout asks for before it trusts agents near production: how many sessions,
how many contexts were read (a hook printed them or an MCP client read them) against only
written to a file, how many pushes were acknowledged, what the edit guard asked and what
followed, how often a session went on editing after it was told, and which pushes engineers
rejected, with their reasons.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping
from datetime import datetime

from pydantic import BaseModel, ConfigDict

from oncall_tui.core.agent_facts import AgentFacts
from oncall_tui.core.agents import PushKind
from oncall_tui.core.journal import GuardDecision
from oncall_tui.core.regressions import SessionFacts

UNKNOWN_AGENT = "other"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class RejectedPush(_Frozen):
    push_id: str
    incident_id: str
    session_id: str
    by: str | None
    reason: str | None
    """Typed by an engineer: data, never markup."""
    at: datetime


class AgentReadiness(_Frozen):
    agent: str
    sessions: int
    contexts_read: int
    """Deliveries a hook printed or an MCP client read."""
    contexts_filed: int
    """Deliveries only written to a context file (no proof of reading)."""
    pushes_told: int
    acknowledgements: int
    guard_asked: int
    guard_denied: int
    allowed_after_ask: int
    """Asks (or refusals) after which the engineer let the file be written."""
    asks_without_write: int
    """Asks after which the session did not write the file (it took the advice)."""
    edits_after_told: int
    """Signs of life naming files, after the session had been told of an incident."""
    rejected: list[RejectedPush]


def readiness(
    sessions: Mapping[str, SessionFacts], facts: AgentFacts, since: datetime, until: datetime
) -> list[AgentReadiness]:
    """One row per agent kind seen in the window, sorted by kind."""

    def inside(when: datetime | None) -> bool:
        return when is not None and since <= when <= until

    def kind(session_id: str) -> str:
        found = sessions.get(session_id)
        return found.agent if found else UNKNOWN_AGENT

    counts: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    rejected: dict[str, list[RejectedPush]] = defaultdict(list)
    for session in sessions.values():
        last = session.last_seen or session.first_seen
        if session.first_seen <= until and last >= since:
            counts[session.agent]["sessions"] += 1
    for delivery in facts.deliveries:
        if inside(delivery.at):
            key = "contexts_read" if delivery.direct else "contexts_filed"
            counts[kind(delivery.session_id)][key] += 1
    told_at: dict[str, datetime] = {}
    for push in facts.pushes.values():
        agent = kind(push.session_id)
        if inside(push.told_at):
            counts[agent]["pushes_told"] += 1
        if push.told_at is not None and push.kind is PushKind.UPDATE:
            first = told_at.get(push.session_id)
            told_at[push.session_id] = min(first, push.told_at) if first else push.told_at
        if inside(push.acknowledged_at):
            counts[agent]["acknowledgements"] += 1
        if inside(push.rejected_at):
            assert push.rejected_at is not None
            rejected[agent].append(
                RejectedPush(
                    push_id=push.push_id,
                    incident_id=push.incident_id,
                    session_id=push.session_id,
                    by=push.rejected_by,
                    reason=push.reject_reason,
                    at=push.rejected_at,
                )
            )
    _guards(facts, counts, kind, inside)
    for edit in facts.edits:
        first = told_at.get(edit.session_id)
        if inside(edit.at) and first is not None and first <= edit.at:
            counts[kind(edit.session_id)]["edits_after_told"] += 1
    agents = sorted(set(counts) | set(rejected))
    return [
        AgentReadiness(
            agent=agent,
            sessions=counts[agent]["sessions"],
            contexts_read=counts[agent]["contexts_read"],
            contexts_filed=counts[agent]["contexts_filed"],
            pushes_told=counts[agent]["pushes_told"],
            acknowledgements=counts[agent]["acknowledgements"],
            guard_asked=counts[agent]["guard_asked"],
            guard_denied=counts[agent]["guard_denied"],
            allowed_after_ask=counts[agent]["allowed_after_ask"],
            asks_without_write=counts[agent]["asks_without_write"],
            edits_after_told=counts[agent]["edits_after_told"],
            rejected=sorted(rejected[agent], key=lambda r: (r.at, r.push_id)),
        )
        for agent in agents
    ]


def _guards(
    facts: AgentFacts,
    counts: dict[str, dict[str, int]],
    kind: Callable[[str], str],
    inside: Callable[[datetime | None], bool],
) -> None:
    """Asks, refusals, and whether each was followed by an allowed write of the same files."""
    allowed = [g for g in facts.guards if g.decision == GuardDecision.ALLOWED_AFTER_ASK.value]
    for guard in facts.guards:
        if not inside(guard.at):
            continue
        agent = kind(guard.session_id)
        if guard.decision == GuardDecision.ALLOWED_AFTER_ASK.value:
            counts[agent]["allowed_after_ask"] += 1
            continue
        key = "guard_asked" if guard.decision == GuardDecision.ASKED.value else "guard_denied"
        counts[agent][key] += 1
        followed = any(
            a.session_id == guard.session_id
            and a.at >= guard.at
            and set(a.paths) & set(guard.paths)
            for a in allowed
        )
        if not followed:
            counts[agent]["asks_without_write"] += 1
