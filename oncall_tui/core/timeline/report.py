"""The post-incident record of one incident, built in a single forward fold of its timeline.

Every figure is read off the state as it was at the event: the document each delivery put in
front of an agent (rendered from the state folded to that delivery, with the DB's fence key, so
it is byte for byte what the agent read), the exposure of each session, the signal rate. The
Markdown, JSON and HTML exports all render the :class:`IncidentTimeline` built here.
"""

from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, datetime, timedelta

from oncall_tui.core.agent_identity import session_agent_id
from oncall_tui.core.agents import DIRECT_CHANNELS
from oncall_tui.core.context.render import render_markdown
from oncall_tui.core.guidance import change_summary
from oncall_tui.core.journal import ContextDelivered, Kind, PushApproved, PushRejected
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import Incident
from oncall_tui.core.regressions import AgentAssisted
from oncall_tui.core.replay.context import session_context
from oncall_tui.core.replay.cursor import walk
from oncall_tui.core.sanitize import clean, display_text
from oncall_tui.core.timeline.exposure import (
    IDLE_AFTER,
    ContextStatus,
    ExposureTracker,
    incident_times,
)
from oncall_tui.core.timeline.model import Timeline, TimelineEvent
from oncall_tui.core.timeline.schema import (
    AgentExposureRecord,
    Change,
    Decision,
    Delivery,
    Event,
    ExposureRecord,
    FollowUp,
    IncidentInfo,
    IncidentTimeline,
    IntervalRecord,
    PushRecord,
    RateBucket,
    Times,
)

RATE_BUCKETS = 48
"""At most this many bars in the signal-rate chart."""
_BUCKET_SIZES = (60, 300, 900, 1800, 3600, 3 * 3600, 6 * 3600, 86400, 7 * 86400)
_SAFE_URL = re.compile(r"https?://[^\s<>\"'`\\]{1,2000}")
_DECISIONS = (Kind.PUSH_APPROVED, Kind.PUSH_REJECTED)
_HUMAN_ONLY = (Kind.PUSH_PROPOSED, Kind.INCIDENT_STATE_CHANGED)
"""Kinds that are decisions when a person (not the engine) wrote them: edits, broadcasts,
manual acknowledgements and resolutions."""


def build_timeline(
    timeline: Timeline, key: bytes, *, idle_after: timedelta = IDLE_AFTER
) -> IncidentTimeline:
    """The record of ``timeline``'s incident as of its last event; ``key`` is the DB's fence key."""
    incident_id = timeline.incident_id
    tracker = ExposureTracker(incident_id, idle_after)
    events: list[Event] = []
    deliveries: dict[int, Delivery] = {}
    """By the seq of each version's first delivery; repeats add to its count."""
    repeats = timeline.names.repeats
    decisions: list[Decision] = []
    signal_times: list[datetime] = []
    tables = MemoryTables()
    for event, tables in walk(timeline):
        tracker.observe(event, tables)
        events.append(_event(event, repeats.get(event.seq)))
        if event.kind == Kind.SIGNAL_RECORDED and event.seq not in timeline.change_ids:
            signal_times.append(event.ts)
        elif event.kind == Kind.CONTEXT_DELIVERED:
            first = repeats.get(event.seq)
            if first is None:
                deliveries[event.seq] = _delivery(event, tables, key)
            else:
                again = deliveries[first]
                deliveries[first] = again.model_copy(
                    update={"count": again.count + 1, "last_at": event.ts}
                )
        if event.kind in _DECISIONS or (event.kind in _HUMAN_ONLY and event.actor != "engine"):
            data = event.entry().data
            by = data.by if isinstance(data, PushApproved | PushRejected) else event.actor
            by = by or event.actor
            decisions.append(
                Decision(seq=event.seq, at=event.ts, by=_one_line(by), what=event.summary)
            )
    incident = tables.get_incident(incident_id)
    if incident is None or not events:
        raise ValueError(f"{incident_id} had not been opened yet at that point of the journal")
    bucket = _bucket_size(events[0].ts, events[-1].ts)
    exposed = _exposure(tracker, incident)
    return IncidentTimeline(
        incident=_incident(incident),
        through_seq=events[-1].seq,
        through=events[-1].ts,
        times=_times(timeline),
        events=events,
        changes=_changes(tables, incident_id),
        pushes=_pushes(tables, incident_id),
        deliveries=list(deliveries.values()),
        decisions=decisions,
        exposure=exposed,
        exposure_by_agent=agent_exposure(exposed, tables),
        follow_ups=_follow_ups(tables, incident, events[0].ts),
        signal_rate=_rate(signal_times, bucket),
        rate_bucket_s=bucket,
    )


def with_agent_assisted(
    record: IncidentTimeline, evidence: AgentAssisted | None
) -> IncidentTimeline:
    """``record`` with the join's evidence when its incident is agent-assisted: the join reads
    the whole store (commits, ranges, every push), so its caller supplies it."""
    return record if evidence is None else record.model_copy(update={"agent_assisted": evidence})


def safe_url(href: str) -> str | None:
    """A sender's link, if it is a plain http(s) URL: the only links the exports show."""
    href = clean(href).strip()
    return href if _SAFE_URL.fullmatch(href) else None


def _one_line(value: object, limit: int = 120) -> str:
    return display_text(value, limit)


def _event(event: TimelineEvent, repeat_of: int | None) -> Event:
    return Event(
        seq=event.seq,
        ts=event.ts,
        kind=event.kind,
        actor=_one_line(event.actor),
        summary=event.summary,
        milestone=event.milestone,
        repeat_of=repeat_of,
    )


def _delivery(event: TimelineEvent, tables: MemoryTables, key: bytes) -> Delivery:
    data = event.entry().data
    assert isinstance(data, ContextDelivered)
    session_id = data.session_id
    ctx = session_context(tables, session_id)
    return Delivery(
        seq=event.seq,
        at=event.ts,
        session_id=_one_line(session_id, 130),
        channel=_one_line(data.channel, 20),
        push_ids=[_one_line(p, 40) for p in data.push_ids],
        told=data.channel in DIRECT_CHANNELS,
        first_at=event.ts,
        last_at=event.ts,
        document=render_markdown(ctx, key) if ctx is not None else None,
    )


def _incident(incident: Incident) -> IncidentInfo:
    links = [safe_url(link.href) for link in incident.links]
    return IncidentInfo(
        id=incident.id,
        number=incident.number,
        title=_one_line(incident.title, 300),
        service=_one_line(incident.service) if incident.service else None,
        services=[_one_line(s) for s in incident.services],
        severity=incident.severity,
        state=incident.state,
        sources=[_one_line(s) for s in incident.sources],
        signal_count=incident.signal_count,
        opened_at=incident.opened_at,
        signal_started_at=incident.signal_started_at,
        acknowledged_at=incident.acknowledged_at,
        mitigated_at=incident.mitigated_at,
        resolved_at=incident.resolved_at,
        links=[link for link in links if link],
    )


def _times(timeline: Timeline) -> Times:
    times = incident_times(timeline)

    def after(when: datetime | None) -> float | None:
        delta = times.since_first_signal(when)
        return None if delta is None else delta.total_seconds()

    return Times(
        first_signal_at=times.first_signal_at,
        opened_at=times.opened_at,
        first_approved_at=times.first_approved_at,
        first_delivered_at=times.first_delivered_at,
        first_file_delivery_at=times.first_file_delivery_at,
        first_acknowledged_at=times.first_acknowledged_at,
        acknowledged_at=times.acknowledged_at,
        resolved_at=times.resolved_at,
        to_first_approval_s=after(times.first_approved_at),
        to_first_delivery_s=after(times.first_delivered_at),
        to_first_file_delivery_s=after(times.first_file_delivery_at),
        to_first_acknowledgement_s=after(times.first_acknowledged_at),
        to_resolution_s=after(times.resolved_at),
    )


def _changes(tables: MemoryTables, incident_id: str) -> list[Change]:
    found = []
    for link in tables.change_links.values():
        stored = tables.get_signal(link.signal_id)
        if link.incident_id == incident_id and stored is not None:
            signal = stored.signal
            summary = f"{change_summary(signal)} ({signal.status.value}, {signal.source})"
            found.append(
                Change(
                    signal_id=stored.id,
                    relation=link.relation,
                    summary=_one_line(summary, 200),
                    occurred_at=signal.occurred_at,
                )
            )
    return sorted(found, key=lambda c: (c.occurred_at, c.signal_id))


def _pushes(tables: MemoryTables, incident_id: str) -> list[PushRecord]:
    pushes = sorted(tables.pushes_for_incident(incident_id), key=lambda p: p.number)
    return [
        PushRecord(
            id=p.id,
            version=p.version,
            kind=p.kind,
            session_id=p.session_id,
            audience=p.audience,
            trigger=_one_line(p.trigger),
            reason=_one_line(p.reason, 300),
            state=p.state,
            proposed_at=p.proposed_at,
            decided_at=p.decided_at,
            decided_by=_one_line(p.decided_by) if p.decided_by else None,
            auto_approved_by=p.auto_approved_by,
            reject_reason=_one_line(p.reject_reason, 500) if p.reject_reason else None,
            delivered_at=p.delivered_at,
            delivered_via=list(p.delivered_via),
            acknowledged_at=p.acknowledged_at,
            supersedes=p.supersedes,
            guidance=clean(p.guidance),
        )
        for p in pushes
    ]


def _exposure(tracker: ExposureTracker, incident: Incident) -> list[ExposureRecord]:
    return [
        ExposureRecord(
            session_id=found.session_id,
            service=found.service,
            missing_s=found.seconds(ContextStatus.MISSING),
            stale_s=found.seconds(ContextStatus.STALE),
            current_s=found.seconds(ContextStatus.CURRENT),
            intervals=[
                IntervalRecord(start=i.start, end=i.end, status=i.status) for i in found.intervals
            ],
            summary=_one_line(found.summary, 300),
        )
        for found in tracker.result(incident.service)
    ]


def agent_exposure(
    exposed: list[ExposureRecord], tables: MemoryTables
) -> list[AgentExposureRecord]:
    """The sessions' exposure added up per agent, in order of each agent's first session."""
    by_agent: dict[str, list[ExposureRecord]] = {}
    kinds: dict[str, str] = {}
    for record in exposed:
        session = tables.get_session(record.session_id)
        agent = session_agent_id(session) if session is not None else record.session_id
        by_agent.setdefault(agent, []).append(record)
        kinds.setdefault(agent, session.agent.value if session is not None else "?")
    return [
        AgentExposureRecord(
            agent_id=agent,
            agent=kinds[agent],
            sessions=[r.session_id for r in records],
            missing_s=sum(r.missing_s for r in records),
            stale_s=sum(r.stale_s for r in records),
            current_s=sum(r.current_s for r in records),
        )
        for agent, records in by_agent.items()
    ]


def _follow_ups(tables: MemoryTables, incident: Incident, since: datetime) -> list[FollowUp]:
    """Notes about the incident, and notes on its services written since it began."""
    notes = sorted(tables.notes.values(), key=lambda n: n.number)
    return [
        FollowUp(
            id=n.id,
            kind=n.kind.value,
            service=n.service,
            text=clean(n.text),
            rationale=clean(n.rationale),
            author=_one_line(n.author),
            created_at=n.created_at,
        )
        for n in notes
        if n.incident_id == incident.id
        or (n.service in incident.services and n.created_at >= since)
    ]


def _bucket_size(start: datetime, end: datetime) -> int:
    span = (end - start).total_seconds()
    return next((s for s in _BUCKET_SIZES if span / s <= RATE_BUCKETS), _BUCKET_SIZES[-1])


def _rate(times: list[datetime], bucket: int) -> list[RateBucket]:
    """Signals per bucket, empty buckets included, aligned on whole multiples of the width."""
    if not times:
        return []
    counts = Counter(int(t.timestamp()) // bucket for t in times)
    first, last = min(counts), max(counts)
    return [
        RateBucket(start=datetime.fromtimestamp(n * bucket, UTC), signals=counts.get(n, 0))
        for n in range(first, last + 1)
    ]
