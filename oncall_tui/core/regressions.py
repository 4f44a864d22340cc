"""Agent-assisted regressions: which incidents a deploy carrying an agent's commits set off, and
whether that agent had been told about trouble on the service when it committed.

The join: incident → its suspect deploys (linked when the incident opened) → the commits each
deploy shipped → the session that made each commit, with the session's context state at commit
time. The suspect deploy of a regression usually comes *before* the incident, so what counts is
what the session knew of this incident or of any other incident on the same service (the one
that was already burning when it committed, typically).

States at commit time:

- ``told``: an approved update push about such an incident had reached the session through its
  hook or an MCP read (a file write proves no reading);
- ``pending``: a push had been proposed but not yet approved or read;
- ``never told``: nothing had been proposed (or the push was rejected);
- ``no session``: the commit names an agent only through its trailer.

Pure: the store builds :class:`JoinInputs`, every caller (reports, ``incident show``) gets the
same answer.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from oncall_tui.core.agent_facts import AgentFacts, GuardEvent, PushHistory
from oncall_tui.core.agents import PushKind
from oncall_tui.core.commits import Commit, DeployRange


class Exposure(StrEnum):
    TOLD = "told"
    PENDING = "pending"
    NEVER_TOLD = "never told"
    NO_SESSION = "no session"


@dataclass(frozen=True)
class SuspectDeploy:
    signal_id: int
    at: datetime


@dataclass(frozen=True)
class IncidentFacts:
    incident_id: str
    number: int
    title: str
    service: str | None
    opened_at: datetime
    """By the senders' clock: when the first signal started."""
    resolved_at: datetime | None = None
    suspects: tuple[SuspectDeploy, ...] = ()


@dataclass(frozen=True)
class SessionFacts:
    session_id: str
    agent: str
    first_seen: datetime
    last_seen: datetime | None = None


@dataclass(frozen=True)
class JoinInputs:
    incidents: Sequence[IncidentFacts]
    """Every incident the window's sessions may have heard of (not only the window's)."""
    ranges: Mapping[int, DeployRange]
    commits: Mapping[str, Commit]
    sessions: Mapping[str, SessionFacts]
    facts: AgentFacts = field(default_factory=AgentFacts)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class GuardNote(_Frozen):
    """An edit-guard decision on the commit's files, in its session, before the commit."""

    decision: str
    incident_id: str
    paths: list[str]
    at: datetime


class CommitEvidence(_Frozen):
    sha: str
    repo: str
    subject: str
    """Typed by someone: data, never markup."""
    authored_at: datetime
    files: list[str]
    session_id: str | None
    agent: str | None
    source: str | None
    trailer: str
    exposure: Exposure
    untold_seconds: float | None
    """How long the session had worked without the context it should have had (``None``:
    there was nothing to tell it)."""
    push_id: str | None
    """The push that told it, or the one still pending."""
    guard: list[GuardNote]


class DeployEvidence(_Frozen):
    signal_id: int
    sha: str
    previous_sha: str | None
    service: str
    repo: str
    at: datetime
    commits: list[CommitEvidence]
    """The agent's commits it shipped (human ones are only counted)."""
    human_commits: int


class AgentAssisted(_Frozen):
    """An incident whose suspect deploy carried commits an agent made."""

    incident_id: str
    number: int
    title: str
    service: str | None
    opened_at: datetime
    deploys: list[DeployEvidence]

    @property
    def commits(self) -> list[CommitEvidence]:
        return [c for d in self.deploys for c in d.commits]

    @property
    def agents(self) -> list[str]:
        return sorted({c.agent or "unknown" for c in self.commits})


class ServiceCount(_Frozen):
    incidents: int
    agent_assisted: int


class WeekRow(_Frozen):
    week: date
    """The Monday the week starts on (UTC)."""
    incidents: int
    agent_assisted: int
    by_agent: dict[str, int]
    by_service: dict[str, ServiceCount]


class _Index:
    """The inputs arranged for lookups by session and by service."""

    def __init__(self, inputs: JoinInputs) -> None:
        self.inputs = inputs
        self.service_of = {i.incident_id: i.service for i in inputs.incidents}
        self.pushes: dict[str, list[PushHistory]] = defaultdict(list)
        for push in inputs.facts.pushes.values():
            if push.kind is PushKind.UPDATE:
                self.pushes[push.session_id].append(push)
        self.guards: dict[str, list[GuardEvent]] = defaultdict(list)
        for guard in inputs.facts.guards:
            self.guards[guard.session_id].append(guard)
        self.by_service: dict[str, list[IncidentFacts]] = defaultdict(list)
        for incident in inputs.incidents:
            if incident.service:
                self.by_service[incident.service].append(incident)

    def concerns(self, push: PushHistory, incident_id: str, services: set[str]) -> bool:
        if push.incident_id == incident_id:
            return True
        own = self.service_of.get(push.incident_id)
        return (own is not None and own in services) or bool(services & set(push.services))


def agent_assisted(inputs: JoinInputs, incident_id: str) -> AgentAssisted | None:
    """The evidence for one incident, or ``None`` when no suspect deploy carried agent work."""
    index = _Index(inputs)
    for incident in inputs.incidents:
        if incident.incident_id == incident_id:
            return _evidence(index, incident)
    return None


def find_regressions(
    inputs: JoinInputs, since: datetime, until: datetime
) -> tuple[list[AgentAssisted], list[IncidentFacts]]:
    """The agent-assisted incidents opened in ``[since, until]``, and every incident there."""
    index = _Index(inputs)
    window = sorted(
        (i for i in inputs.incidents if since <= i.opened_at <= until),
        key=lambda i: (i.opened_at, i.number),
    )
    found = [e for e in (_evidence(index, i) for i in window) if e is not None]
    return found, window


def _evidence(index: _Index, incident: IncidentFacts) -> AgentAssisted | None:
    deploys: list[DeployEvidence] = []
    for suspect in incident.suspects:
        deploy_range = index.inputs.ranges.get(suspect.signal_id)
        if deploy_range is None:
            continue
        shipped = [index.inputs.commits[s] for s in deploy_range.shas if s in index.inputs.commits]
        agents = [c for c in shipped if c.session_id is not None or c.agent is not None]
        if not agents:
            continue
        services = {s for s in (incident.service, deploy_range.service) if s}
        deploys.append(
            DeployEvidence(
                signal_id=suspect.signal_id,
                sha=deploy_range.sha,
                previous_sha=deploy_range.previous_sha,
                service=deploy_range.service,
                repo=deploy_range.repo,
                at=suspect.at,
                commits=[_commit(index, c, incident.incident_id, services) for c in agents],
                human_commits=len(deploy_range.shas) - len(agents),
            )
        )
    if not deploys:
        return None
    return AgentAssisted(
        incident_id=incident.incident_id,
        number=incident.number,
        title=incident.title,
        service=incident.service,
        opened_at=incident.opened_at,
        deploys=deploys,
    )


def _commit(index: _Index, commit: Commit, incident_id: str, services: set[str]) -> CommitEvidence:
    at = commit.authored_at
    session = index.inputs.sessions.get(commit.session_id) if commit.session_id else None
    exposure, untold, push_id = Exposure.NO_SESSION, None, None
    guard: list[GuardNote] = []
    if commit.session_id is not None:
        started = session.first_seen if session else None
        exposure, untold, push_id = _exposure(
            index, commit.session_id, started, at, incident_id, services
        )
        files = set(commit.files)
        guard = [
            GuardNote(decision=g.decision, incident_id=g.incident_id, paths=list(g.paths), at=g.at)
            for g in index.guards.get(commit.session_id, [])
            if g.at <= at and files & set(g.paths)
        ]
    return CommitEvidence(
        sha=commit.sha,
        repo=commit.repo,
        subject=commit.subject,
        authored_at=at,
        files=list(commit.files),
        session_id=commit.session_id,
        agent=commit.agent or (session.agent if session else None),
        source=commit.source.value if commit.source else None,
        trailer=commit.trailer,
        exposure=exposure,
        untold_seconds=untold,
        push_id=push_id,
        guard=guard,
    )


def _exposure(
    index: _Index,
    session_id: str,
    started: datetime | None,
    at: datetime,
    incident_id: str,
    services: set[str],
) -> tuple[Exposure, float | None, str | None]:
    """The session's context state at ``at``, how long it had worked without it, and the push."""

    def worked_since(since: datetime) -> float:
        start = max(since, started) if started else since
        return max((at - start).total_seconds(), 0.0)

    relevant = sorted(
        (
            p
            for p in index.pushes.get(session_id, [])
            if p.proposed_at <= at and index.concerns(p, incident_id, services)
        ),
        key=lambda p: (p.proposed_at, p.push_id),
    )
    told = [p for p in relevant if p.told_at is not None and p.told_at <= at]
    if told:
        first = min(told, key=lambda p: (p.told_at or at, p.push_id))
        assert first.told_at is not None
        # Untold from when there was something to tell it until a hook or MCP read did.
        start = max(first.proposed_at, started) if started else first.proposed_at
        return Exposure.TOLD, max((first.told_at - start).total_seconds(), 0.0), first.push_id
    waiting = [p for p in relevant if p.rejected_at is None or p.rejected_at > at]
    if waiting:
        return Exposure.PENDING, worked_since(waiting[0].proposed_at), waiting[0].push_id
    burning = [
        i.opened_at
        for service in sorted(services)
        for i in index.by_service.get(service, [])
        if i.opened_at <= at and (i.resolved_at is None or i.resolved_at > at)
    ]
    return Exposure.NEVER_TOLD, worked_since(min(burning)) if burning else None, None


def week_of(when: datetime) -> date:
    day = when.date()
    return day - timedelta(days=day.weekday())


def weekly(
    found: Sequence[AgentAssisted],
    window: Sequence[IncidentFacts],
    since: datetime,
    until: datetime,
) -> list[WeekRow]:
    """Agent-assisted incidents per week, by agent kind and by service, against all incidents;
    every week of the window has a row (a quiet week is a zero, not a gap)."""
    flagged = {f.incident_id: f for f in found}
    rows: list[WeekRow] = []
    week = week_of(since)
    while week <= week_of(until):
        mine = [i for i in window if week_of(i.opened_at) == week]
        by_agent: dict[str, int] = defaultdict(int)
        services: dict[str, list[int]] = {}
        for incident in mine:
            evidence = flagged.get(incident.incident_id)
            count = services.setdefault(incident.service or "-", [0, 0])
            count[0] += 1
            if evidence is not None:
                count[1] += 1
                for agent in evidence.agents:
                    by_agent[agent] += 1
        rows.append(
            WeekRow(
                week=week,
                incidents=len(mine),
                agent_assisted=sum(1 for i in mine if i.incident_id in flagged),
                by_agent=dict(sorted(by_agent.items())),
                by_service={
                    name: ServiceCount(incidents=c[0], agent_assisted=c[1])
                    for name, c in sorted(services.items())
                },
            )
        )
        week += timedelta(days=7)
    return rows


def exposure_label(exposure: Exposure) -> str:
    """How a review names the state: a pending push means the session had not been told."""
    return "not told (pending)" if exposure is Exposure.PENDING else exposure.value


def summary_line(evidence: AgentAssisted) -> str:
    """One line for ``incident show``: which agent, which session, what state when committing."""
    parts = []
    for commit in evidence.commits:
        who = commit.session_id or "no session"
        state = exposure_label(commit.exposure)
        parts.append(f"{commit.sha[:10]} by {commit.agent or 'an agent'} ({who}, {state})")
    shas = ", ".join(d.sha[:10] for d in evidence.deploys)
    return f"deploy {shas}: " + "; ".join(parts)
