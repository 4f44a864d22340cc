"""What each push and guard decision came to, read off the journal in order: the facts the
regressions join and the agent readiness report both need, as plain values.

A push's own row (``pushes``) keeps only its latest state; whether a session had been told
*before a given moment* needs the times: when it was proposed, approved, rejected, and when a
hook printed it or an MCP client read it (a file write proves no reading).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from oncall_tui.core.agents import DIRECT_CHANNELS, PushKind
from oncall_tui.core.journal import (
    ContextDelivered,
    GuardDecided,
    JournalEntry,
    Kind,
    PushAcknowledged,
    PushApproved,
    PushProposed,
    PushRejected,
    SessionSeen,
)

FACT_KINDS = frozenset(
    {
        Kind.PUSH_PROPOSED,
        Kind.PUSH_APPROVED,
        Kind.PUSH_REJECTED,
        Kind.PUSH_ACKNOWLEDGED,
        Kind.CONTEXT_DELIVERED,
        Kind.GUARD_DECIDED,
        Kind.SESSION_SEEN,
    }
)
"""The journal kinds :func:`agent_facts` reads; the store fetches only these."""


@dataclass(frozen=True)
class PushHistory:
    """One push to one session, with the times that matter for "had it been told"."""

    push_id: str
    incident_id: str
    session_id: str
    kind: PushKind
    services: tuple[str, ...]
    proposed_at: datetime
    approved_at: datetime | None = None
    told_at: datetime | None = None
    """The first hook print or MCP read of it once approved."""
    told_via: str | None = None
    filed_at: datetime | None = None
    """The first write of it, approved, into the session's context file."""
    rejected_at: datetime | None = None
    rejected_by: str | None = None
    reject_reason: str | None = None
    acknowledged_at: datetime | None = None


@dataclass(frozen=True)
class GuardEvent:
    """One edit-guard decision (files relative to the repository, no command text)."""

    session_id: str
    incident_id: str
    decision: str
    paths: tuple[str, ...]
    service: str
    at: datetime


@dataclass(frozen=True)
class Delivery:
    """One ``context.delivered`` entry: which channel reached the session, when."""

    session_id: str
    channel: str
    at: datetime

    @property
    def direct(self) -> bool:
        return self.channel in DIRECT_CHANNELS


@dataclass(frozen=True)
class Edit:
    """A sign of life that named files the session touched."""

    session_id: str
    paths: tuple[str, ...]
    at: datetime


@dataclass
class AgentFacts:
    pushes: dict[str, PushHistory] = field(default_factory=dict)
    guards: list[GuardEvent] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)
    edits: list[Edit] = field(default_factory=list)


def agent_facts(entries: Iterable[JournalEntry]) -> AgentFacts:
    """Fold ``entries`` (journal order; other kinds are skipped) into push histories, guard
    decisions, deliveries and edits. Broadcasts have no single session and are left out."""
    facts = AgentFacts()
    pushes = facts.pushes
    for entry in entries:
        data = entry.data
        if isinstance(data, PushProposed):
            push = data.push
            if push.session_id is not None:
                pushes[push.id] = PushHistory(
                    push.id,
                    push.incident_id,
                    push.session_id,
                    push.kind,
                    tuple(push.services),
                    entry.ts,
                )
        elif isinstance(data, PushApproved) and data.push_id in pushes:
            found = pushes[data.push_id]
            pushes[data.push_id] = replace(found, approved_at=found.approved_at or entry.ts)
        elif isinstance(data, PushRejected) and data.push_id in pushes:
            pushes[data.push_id] = replace(
                pushes[data.push_id],
                rejected_at=entry.ts,
                rejected_by=data.by,
                reject_reason=data.reason,
            )
        elif isinstance(data, PushAcknowledged) and data.push_id in pushes:
            found = pushes[data.push_id]
            pushes[data.push_id] = replace(found, acknowledged_at=found.acknowledged_at or entry.ts)
        elif isinstance(data, ContextDelivered):
            facts.deliveries.append(Delivery(data.session_id, data.channel, entry.ts))
            _delivered(pushes, data, entry.ts)
        elif isinstance(data, GuardDecided):
            facts.guards.append(
                GuardEvent(
                    data.session_id,
                    data.incident_id,
                    data.decision,
                    tuple(data.paths),
                    data.service,
                    entry.ts,
                )
            )
        elif isinstance(data, SessionSeen) and data.paths:
            facts.edits.append(Edit(data.session_id, tuple(data.paths), entry.ts))
    return facts


def _delivered(pushes: dict[str, PushHistory], data: ContextDelivered, at: datetime) -> None:
    # Only an approved push counts as told: a pending push's notice carries no guidance.
    for push_id in data.push_ids:
        found = pushes.get(push_id)
        if found is None or found.approved_at is None:
            continue
        if data.channel in DIRECT_CHANNELS and found.told_at is None:
            pushes[push_id] = replace(found, told_at=at, told_via=data.channel)
        elif data.channel not in DIRECT_CHANNELS and found.filed_at is None:
            pushes[push_id] = replace(found, filed_at=at)
