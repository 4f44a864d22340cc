"""Proposing context pushes, the approval policy, and the push lifecycle.

:func:`reconcile` is idempotent: given an incident and the sessions, it proposes only what is
missing (a first push, a new version after a material change, a stand-down) and expires what
no longer applies. It runs after anything that could change the answer: new signals, session
activity, a catalog load, an engineer's action.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from oncall_tui.core import guidance
from oncall_tui.core.agents import AgentSession, Push, PushKind, PushState, SessionState
from oncall_tui.core.journal import (
    PushApproved,
    PushExpired,
    PushProposed,
    PushSuperseded,
)
from oncall_tui.core.models import Incident, Severity, StoredSignal
from oncall_tui.core.targeting import Impact, affected_sessions
from oncall_tui.core.topology import Catalog, Service

Event = PushProposed | PushApproved | PushSuperseded | PushExpired
"""A decision about pushes, as the journal body that records it."""

PolicyMode = Literal["observe", "approve", "auto"]


class PolicyError(ValueError):
    pass


DEFAULT_AUTO_APPROVE = ("stand-down",)
"""Rules when none are configured in ``approve`` mode: a stand-down carries no guidance, only
the news that the incident is over, and an agent left in stability mode because nobody thought
to approve it is the costlier mistake."""


@dataclass(frozen=True)
class Policy:
    """When pushes may skip a human. ``observe`` never delivers (not even the notice that an
    incident is being assessed); ``approve`` without rules approves stand-downs only; ``auto``
    without rules approves every incident push; broadcasts always need an engineer.
    ``auto_approve=()`` given explicitly means no rule at all."""

    mode: PolicyMode = "approve"
    auto_approve: tuple[str, ...] | None = None
    rate_limit_per_hour: int = 12

    def __post_init__(self) -> None:
        for rule in self.rules:
            _parse_rule(rule)

    @property
    def rules(self) -> tuple[str, ...]:
        if self.auto_approve is not None:
            return self.auto_approve
        return ("all",) if self.mode == "auto" else DEFAULT_AUTO_APPROVE

    @property
    def announces(self) -> bool:
        """Whether sessions hear of an incident as soon as a push for them is proposed."""
        return self.mode != "observe"

    def rule_for(self, push: Push, incident: Incident, approved_last_hour: int) -> str | None:
        """The rule that approves ``push`` without a human, or None."""
        if self.mode == "observe" or push.kind is PushKind.BROADCAST:
            return None
        if approved_last_hour >= self.rate_limit_per_hour:
            return None
        for rule in self.rules:
            if _matches(rule, push, incident):
                return rule
        return None


def _parse_rule(rule: str) -> tuple[str, Severity | None]:
    text = rule.strip().lower()
    if text in ("all", "stand-down", "update"):
        return text, None
    if text.startswith("severity>="):
        return "severity", Severity.parse(text.removeprefix("severity>="), Severity.CRITICAL)
    raise PolicyError(
        f"unknown auto-approve rule {rule!r}: use stand-down, update, all or severity>=LEVEL"
    )


def _matches(rule: str, push: Push, incident: Incident) -> bool:
    name, level = _parse_rule(rule)
    if name == "all":
        return True
    if name == "stand-down":
        return push.kind is PushKind.STAND_DOWN
    if name == "update":
        return push.kind is PushKind.UPDATE
    return (
        push.kind is PushKind.UPDATE and level is not None and incident.severity.rank >= level.rank
    )


@dataclass(frozen=True)
class SessionTiming:
    idle_after: timedelta = timedelta(minutes=15)
    end_after: timedelta = timedelta(hours=4)


class PushLookup(Protocol):
    def get_incident(self, incident_id: str) -> Incident | None: ...
    def get_catalog(self) -> dict[str, Service]: ...
    def open_sessions(self) -> list[AgentSession]: ...
    def get_session(self, session_id: str) -> AgentSession | None: ...
    def pushes_for_incident(
        self, incident_id: str, session_ids: Collection[str] | None = None
    ) -> list[Push]:
        """In number order; only those of ``session_ids`` when given."""
        ...

    def has_pushes(self, incident_id: str) -> bool: ...
    def next_push_number(self) -> int: ...
    def approved_count_since(self, session_id: str, since: datetime) -> int: ...
    def suspect_changes(self, incident_id: str) -> list[StoredSignal]: ...


class _Numbering:
    """Push numbers handed out within one reconcile, before any of them is in the store."""

    __slots__ = ("next",)

    def __init__(self, next: int) -> None:
        self.next = next

    def take(self) -> int:
        number = self.next
        self.next += 1
        return number


def push_id(number: int) -> str:
    return f"P-{number}"


def basis_of(incident: Incident, changes: Iterable[StoredSignal]) -> dict[str, Any]:
    return {
        "state": incident.state.value,
        "severity": incident.severity.value,
        "services": sorted(incident.services),
        "changes": sorted(change.id for change in changes),
        "freeze": incident.deploy_freeze,
    }


def reconcile(
    incident_id: str,
    lookup: PushLookup,
    policy: Policy,
    timing: SessionTiming,
    now: datetime,
    *,
    only_session: str | None = None,
) -> list[Event]:
    """What to propose, supersede, expire or auto-approve for one incident now."""
    incident = lookup.get_incident(incident_id)
    if incident is None:
        return []
    changes = lookup.suspect_changes(incident.id)
    basis = basis_of(incident, changes)
    sessions = [
        s
        for s in _candidates(lookup, only_session)
        if s.state(now, timing.idle_after, timing.end_after) is not SessionState.ENDED
    ]
    if only_session is None:
        pushes = lookup.pushes_for_incident(incident.id)
        first = not pushes
    else:
        # Performance: a session registering needs its own pushes alone, and whether there
        # are any; reading every push of the incident grew with the sessions it ever told.
        pushes = lookup.pushes_for_incident(incident.id, [only_session])
        first = not pushes and not lookup.has_pushes(incident.id)
    numbering = _Numbering(lookup.next_push_number())
    events: list[Event] = _expire_for_gone_sessions(pushes, {s.id for s in sessions}, only_session)
    catalog = Catalog(services=lookup.get_catalog(), source="store")
    if incident.is_active:
        for impact in affected_sessions(incident, catalog, sessions):
            mine = [
                p
                for p in pushes
                if p.session_id == impact.session_id and p.kind is not PushKind.BROADCAST
            ]
            events += _propose_update(
                incident,
                impact,
                mine,
                basis,
                changes,
                numbering,
                lookup,
                policy,
                now,
                first=first,
            )
    else:
        for session in sessions:
            mine = [
                p for p in pushes if p.session_id == session.id and p.kind is not PushKind.BROADCAST
            ]
            events += _stand_down(incident, session.id, mine, basis, numbering, lookup, policy, now)
    return events


def _candidates(lookup: PushLookup, only_session: str | None) -> list[AgentSession]:
    """The open sessions, or only the one named. Performance: a session registering asks for
    itself alone, once per active incident; reading every open session's JSON for it grew with
    the sessions open (7 ms a registration at 200)."""
    if only_session is None:
        return lookup.open_sessions()
    session = lookup.get_session(only_session)
    return [session] if session is not None else []


def _expire_for_gone_sessions(
    pushes: list[Push], present: set[str], only_session: str | None
) -> list[Event]:
    if only_session is not None:
        return []
    return [
        PushExpired(p.id, "the session ended")
        for p in pushes
        if p.state.is_open and p.session_id is not None and p.session_id not in present
    ]


def _latest(pushes: list[Push]) -> Push | None:
    current = [p for p in pushes if p.state not in (PushState.SUPERSEDED, PushState.EXPIRED)]
    return max(current, key=lambda p: p.number) if current else None


def _propose_update(
    incident: Incident,
    impact: Impact,
    mine: list[Push],
    basis: dict[str, Any],
    changes: list[StoredSignal],
    numbering: _Numbering,
    lookup: PushLookup,
    policy: Policy,
    now: datetime,
    *,
    first: bool,
) -> list[Event]:
    latest = _latest(mine)
    if latest is not None and latest.kind is PushKind.UPDATE and latest.basis == basis:
        return []
    trigger = guidance.trigger(latest.basis if latest else None, basis, changes, first=first)
    number = numbering.take()
    push = Push(
        id=push_id(number),
        number=number,
        incident_id=incident.id,
        session_id=impact.session_id,
        kind=PushKind.UPDATE,
        version=len(mine) + 1,
        trigger=trigger,
        reason=impact.reason,
        services=impact.services,
        guidance=guidance.update_text(incident, impact, changes),
        proposed_at=now,
        supersedes=latest.id if latest else None,
        basis=basis,
        notice=policy.announces,
    )
    return _proposed(push, incident, mine, lookup, policy, now)


def _stand_down(
    incident: Incident,
    session_id: str,
    mine: list[Push],
    basis: dict[str, Any],
    numbering: _Numbering,
    lookup: PushLookup,
    policy: Policy,
    now: datetime,
) -> list[Event]:
    events: list[Event] = [
        PushExpired(p.id, "the incident resolved")
        for p in mine
        if p.kind is PushKind.UPDATE and p.state.is_open
    ]
    # Told: guidance approved (whether the agent read it is for delivery to judge, see
    # core.context.assemble), or a notice that the incident was being assessed which a hook
    # printed or an MCP client read: a notice only written to a file needs no stand-down.
    told = [
        p
        for p in mine
        if p.kind is PushKind.UPDATE and (p.state.is_live or (p.announced and p.told_directly))
    ]
    already = [
        p for p in mine if p.kind is PushKind.STAND_DOWN and p.state is not PushState.EXPIRED
    ]
    if not told or already:
        return events
    number = numbering.take()
    push = Push(
        id=push_id(number),
        number=number,
        incident_id=incident.id,
        session_id=session_id,
        kind=PushKind.STAND_DOWN,
        version=len(mine) + 1,
        trigger="resolved",
        reason=told[-1].reason,
        services=told[-1].services,
        guidance=guidance.stand_down_text(incident, told[-1].services),
        proposed_at=now,
        supersedes=told[-1].id,
        basis=basis,
    )
    live = [p for p in told if p.state.is_live]  # the announced ones expire above
    return events + _proposed(push, incident, live, lookup, policy, now)


def _proposed(
    push: Push,
    incident: Incident,
    mine: list[Push],
    lookup: PushLookup,
    policy: Policy,
    now: datetime,
) -> list[Event]:
    events: list[Event] = [PushProposed(push)]
    events += [PushSuperseded(p.id, push.id) for p in mine if p.state.is_open]
    recent = (
        lookup.approved_count_since(push.session_id, now - timedelta(hours=1))
        if push.session_id
        else 0
    )
    rule = policy.rule_for(push, incident, recent)
    if rule is not None:
        events += approval_events(push, [p for p in mine if p.state.is_live], "policy", rule)
    return events


def approval_events(
    push: Push, live_before: list[Push], by: str, rule: str | None = None
) -> list[Event]:
    """Approving a version retires the versions the agent knew before it."""
    approved: list[Event] = [PushApproved(push.id, by, rule)]
    return approved + [PushSuperseded(p.id, push.id) for p in live_before if p.id != push.id]
