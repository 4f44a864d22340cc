"""How long each affected agent worked without current context, and how fast we told them.

The question a post-incident review asks of the agent side: while production was degraded,
which sessions kept working on the affected code, and for how long did they do it with no
context (``missing``: nothing approved had reached them), with an outdated one (``stale``: a
newer version or a broadcast was live but not yet delivered to them), or with the current one.

A session "worked" between two signs of life (registration, heartbeats) less than
``idle_after`` apart, the same silence after which the dashboard calls it idle.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from oncall_tui.core.agents import DIRECT_CHANNELS, Push, PushKind, PushState
from oncall_tui.core.journal import (
    PUSH_KINDS,
    SESSION_KINDS,
    ContextDelivered,
    Kind,
    PushProposed,
)
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import Severity
from oncall_tui.core.pushes import SessionTiming
from oncall_tui.core.replay.cursor import walk
from oncall_tui.core.timeline.model import Milestone, Timeline, TimelineEvent

IDLE_AFTER = SessionTiming().idle_after
_RECHECK = PUSH_KINDS | {Kind.CONTEXT_DELIVERED, Kind.INCIDENT_OPENED, Kind.INCIDENT_STATE_CHANGED}
_TRACKED = (Kind.PUSH_PROPOSED, Kind.CONTEXT_DELIVERED)
"""The entries whose bodies the tracker reads (the others it takes by kind alone)."""


class ContextStatus(StrEnum):
    MISSING = "missing"
    STALE = "stale"
    CURRENT = "current"


@dataclass(frozen=True)
class Interval:
    start: datetime
    end: datetime
    status: ContextStatus

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True)
class SessionExposure:
    session_id: str
    service: str | None
    """The session's own service in the blast radius (what its work was on)."""
    intervals: list[Interval]
    summary: str

    def seconds(self, status: ContextStatus) -> float:
        return sum(i.seconds for i in self.intervals if i.status is status)


@dataclass(frozen=True)
class IncidentTimes:
    """The agent-side clock of an incident, from the first signal on."""

    first_signal_at: datetime | None
    opened_at: datetime | None
    first_approved_at: datetime | None
    first_delivered_at: datetime | None
    """The first time an agent was told: a hook print or an MCP read, never a file write."""
    first_file_delivery_at: datetime | None
    """The first write of the incident into a session's context file (no proof of reading)."""
    first_acknowledged_at: datetime | None
    """The first acknowledgement of a push by an agent."""
    acknowledged_at: datetime | None
    resolved_at: datetime | None

    def since_first_signal(self, when: datetime | None) -> timedelta | None:
        if when is None or self.first_signal_at is None:
            return None
        return when - self.first_signal_at


def incident_times(timeline: Timeline) -> IncidentTimes:
    """Read off the milestones; a reopened incident counts its last resolution only."""
    first: dict[Milestone, datetime] = {}
    resolved: datetime | None = None
    for index in timeline.milestones:
        event = timeline.events[index]
        assert event.milestone is not None
        first.setdefault(event.milestone, event.ts)
        if event.milestone is Milestone.RESOLVED:
            resolved = event.ts
        elif event.milestone is Milestone.REOPENED:
            resolved = None
    return IncidentTimes(
        first_signal_at=first.get(Milestone.FIRST_SIGNAL),
        opened_at=first.get(Milestone.OPENED),
        first_approved_at=first.get(Milestone.APPROVED),
        first_delivered_at=first.get(Milestone.FIRST_TOLD),
        first_file_delivery_at=first.get(Milestone.FILE),
        first_acknowledged_at=first.get(Milestone.ACKNOWLEDGED),
        acknowledged_at=first.get(Milestone.INCIDENT_ACKNOWLEDGED),
        resolved_at=resolved,
    )


@dataclass
class _Session:
    service: str | None
    seen: list[datetime] = field(default_factory=list)
    """Signs of life, in order."""
    ended: list[datetime] = field(default_factory=list)
    changes: list[tuple[datetime, ContextStatus | None, Severity]] = field(default_factory=list)
    told: set[str] = field(default_factory=set)


class ExposureTracker:
    """Fed every event of a timeline, in order, with the state right after it."""

    def __init__(self, incident_id: str, idle_after: timedelta = IDLE_AFTER) -> None:
        self.incident_id = incident_id
        self.idle_after = idle_after
        self._sessions: dict[str, _Session] = {}

    def observe(self, event: TimelineEvent, tables: MemoryTables) -> None:
        fresh = None
        data = event.entry().data if event.kind in _TRACKED else None
        if isinstance(data, PushProposed):
            push = data.push
            if push.kind is PushKind.UPDATE and str(push.session_id) not in self._sessions:
                fresh = str(push.session_id)
                self._sessions[fresh] = _Session(push.services[0] if push.services else None)
        elif isinstance(data, ContextDelivered) and data.channel in DIRECT_CHANNELS:
            # Told means read: a file write proves nothing, and a pending push's notice carries
            # no guidance, so only approved pushes a hook printed or an MCP client read count.
            known = self._sessions.get(data.session_id)
            if known is not None:
                known.told.update(p for p in data.push_ids if _is_live(tables.get_push(p)))
        if event.kind in SESSION_KINDS or fresh is not None:
            for session_id, tracked in self._sessions.items():
                self._seen(session_id, tracked, tables)
        if event.kind in _RECHECK:
            for session_id, tracked in self._sessions.items():
                self._recheck(event.ts, session_id, tracked, tables)

    @staticmethod
    def _seen(session_id: str, tracked: _Session, tables: MemoryTables) -> None:
        session = tables.get_session(session_id)
        if session is None:
            return
        if not tracked.seen or session.last_seen > tracked.seen[-1]:
            tracked.seen.append(session.last_seen)
        if session.ended_at is not None and session.ended_at not in tracked.ended:
            tracked.ended.append(session.ended_at)

    def _recheck(
        self, at: datetime, session_id: str, tracked: _Session, tables: MemoryTables
    ) -> None:
        incident = tables.get_incident(self.incident_id)
        status: ContextStatus | None = None
        if incident is not None and incident.is_active:
            status = _status(session_id, tracked.told, list(tables.pushes.values()), incident.id)
        severity = incident.severity if incident is not None else Severity.INFO
        if not tracked.changes or tracked.changes[-1][1:] != (status, severity):
            tracked.changes.append((at, status, severity))

    def result(
        self, incident_service: str | None, until: datetime | None = None
    ) -> list[SessionExposure]:
        """Per session, in id order; ``until`` cuts the story at a replay's clock."""
        found = []
        for session_id, tracked in sorted(self._sessions.items()):
            spans = _worked(tracked.seen, tracked.ended, self.idle_after, until)
            intervals, severity = _split(spans, tracked.changes)
            found.append(
                SessionExposure(
                    session_id,
                    tracked.service,
                    intervals,
                    _summary(session_id, tracked.service, incident_service, severity, intervals),
                )
            )
        return found


def exposure(
    timeline: Timeline, idle_after: timedelta = IDLE_AFTER, until: datetime | None = None
) -> list[SessionExposure]:
    """The exposure of every session the incident's update pushes addressed, over the whole
    story or (``until``, e.g. a replay's clock) up to a moment. One forward fold: compute it
    once per story, off the screen's thread."""
    tracker = ExposureTracker(timeline.incident_id, idle_after)
    service = None
    for event, tables in walk(timeline):
        tracker.observe(event, tables)
        incident = tables.get_incident(timeline.incident_id)
        service = incident.service if incident is not None else service
    return tracker.result(service, until)


def _is_live(push: Push | None) -> bool:
    return push is not None and push.state.is_live


def _status(
    session_id: str, told: set[str], pushes: list[Push], incident_id: str
) -> ContextStatus | None:
    mine = [
        p
        for p in pushes
        if p.incident_id == incident_id
        and (p.session_id == session_id or session_id in p.recipients)
    ]
    updates = [p for p in mine if p.kind is PushKind.UPDATE and p.state is not PushState.SUPERSEDED]
    if updates and max(updates, key=lambda p: p.number).state is PushState.REJECTED:
        return None  # an engineer judged the session unaffected
    if not told & {p.id for p in mine}:
        return ContextStatus.MISSING
    if any(p.state.is_live and p.id not in told for p in mine):
        return ContextStatus.STALE
    return ContextStatus.CURRENT


def _worked(
    seen: list[datetime], ended: list[datetime], idle_after: timedelta, until: datetime | None
) -> list[tuple[datetime, datetime]]:
    spans = []
    for start, end in zip(seen, seen[1:], strict=False):
        if end - start <= idle_after and not any(start <= e < end for e in ended):
            spans.append((start, min(end, until) if until else end))
    return [(s, e) for s, e in spans if e > s]


def _split(
    spans: list[tuple[datetime, datetime]],
    changes: list[tuple[datetime, ContextStatus | None, Severity]],
) -> tuple[list[Interval], Severity | None]:
    """Cut worked spans where the status changed; keep the parts inside the incident."""
    intervals: list[Interval] = []
    worst: Severity | None = None
    for start, end in spans:
        cuts = [start, *(t for t, _, _ in changes if start < t < end), end]
        for left, right in zip(cuts, cuts[1:], strict=False):
            before = [c for c in changes if c[0] <= left]
            if not before or before[-1][1] is None:
                continue
            _, status, severity = before[-1]
            assert status is not None
            if status is ContextStatus.MISSING:
                worst = severity if worst is None else Severity.worst(worst, severity)
            if intervals and intervals[-1].status is status and intervals[-1].end == left:
                intervals[-1] = Interval(intervals[-1].start, right, status)
            else:
                intervals.append(Interval(left, right, status))
    return intervals, worst


def duration(seconds: float) -> str:
    """``45 s``, ``5 min 40 s``, ``14 min``, ``2 h 05 min``: as precise as a review needs."""
    whole = round(seconds)
    if whole < 60:
        return f"{whole} s"
    if whole < 600:
        minutes, rest = divmod(whole, 60)
        return f"{minutes} min {rest:02d} s" if rest else f"{minutes} min"
    minutes = round(whole / 60)
    return f"{minutes} min" if minutes < 60 else f"{minutes // 60} h {minutes % 60:02d} min"


def _summary(
    session_id: str,
    service: str | None,
    incident_service: str | None,
    severity: Severity | None,
    intervals: list[Interval],
) -> str:
    on = f" on {service}" if service else ""
    where = incident_service or "the affected service"
    seconds = {s: sum(i.seconds for i in intervals if i.status is s) for s in ContextStatus}
    stale = seconds[ContextStatus.STALE]
    if seconds[ContextStatus.MISSING]:
        level = f"was {severity.value}" if severity else "was degraded"
        line = f"{session_id} worked {duration(seconds[ContextStatus.MISSING])}{on}"
        line += f" while {where} {level} before context reached it"
        return line + (f", then {duration(stale)} with outdated context" if stale else "")
    if stale:
        return f"{session_id} worked {duration(stale)}{on} with outdated context"
    if seconds[ContextStatus.CURRENT]:
        return f"{session_id} had current context for the {duration(seconds[ContextStatus.CURRENT])} it worked{on}"
    return f"{session_id} did not work{on} while the incident was active"
