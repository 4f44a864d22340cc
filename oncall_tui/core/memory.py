"""The projection held in dictionaries: what replay folds into, and what core tests use.

It implements both :class:`~oncall_tui.core.projection.Tables` and
:class:`~oncall_tui.core.incidents.Lookup`, with the same answers as the SQLite projection.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from oncall_tui.core.agents import AgentSession, Note, Push
from oncall_tui.core.commits import Commit, DeployRange
from oncall_tui.core.journal import GuardAllowed, GuardDecided
from oncall_tui.core.models import (
    AlertState,
    ChangeLink,
    Incident,
    IncidentState,
    SignalStatus,
    StoredSignal,
)
from oncall_tui.core.topology import Service


class MemoryTables:
    def __init__(self) -> None:
        self.incidents: dict[str, Incident] = {}
        self.signals: dict[int, StoredSignal] = {}
        self.alerts: dict[str, AlertState] = {}
        self.change_links: dict[tuple[str, int], ChangeLink] = {}
        self.catalog: dict[str, Service] = {}
        self.sessions: dict[str, AgentSession] = {}
        self.pushes: dict[str, Push] = {}
        self.notes: dict[str, Note] = {}
        self.commits: dict[str, Commit] = {}
        self.deploy_ranges: dict[int, DeployRange] = {}

    # --- Tables -------------------------------------------------------------------------

    def get_incident(self, incident_id: str) -> Incident | None:
        return self.incidents.get(incident_id)

    def put_incident(self, incident: Incident) -> None:
        self.incidents[incident.id] = incident

    def get_signal(self, signal_id: int) -> StoredSignal | None:
        return self.signals.get(signal_id)

    def put_signal(self, stored: StoredSignal) -> None:
        self.signals[stored.id] = stored

    def get_alert(self, alert_key: str) -> AlertState | None:
        return self.alerts.get(alert_key)

    def put_alert(self, alert: AlertState) -> None:
        self.alerts[alert.alert_key] = alert

    def put_change_link(self, link: ChangeLink) -> None:
        self.change_links[(link.incident_id, link.signal_id)] = link

    def get_catalog(self) -> dict[str, Service]:
        return dict(self.catalog)

    def put_catalog(self, services: dict[str, Service]) -> None:
        self.catalog = dict(services)

    def get_session(self, session_id: str) -> AgentSession | None:
        return self.sessions.get(session_id)

    def put_session(self, session: AgentSession) -> None:
        self.sessions[session.id] = session

    def get_push(self, push_id: str) -> Push | None:
        return self.pushes.get(push_id)

    def put_push(self, push: Push) -> None:
        self.pushes[push.id] = push

    def get_note(self, note_id: str) -> Note | None:
        return self.notes.get(note_id)

    def put_note(self, note: Note) -> None:
        self.notes[note.id] = note

    # The edit guard's tables serve the live hook only (repeats, overrides); a replayed story
    # shows its decisions as events, and no state it folds depends on them.

    def put_guard_decision(self, decision: GuardDecided, at: datetime) -> None:
        pass

    def put_guard_allowance(self, allowance: GuardAllowed) -> None:
        pass

    def get_commit(self, sha: str) -> Commit | None:
        return self.commits.get(sha)

    def put_commit(self, commit: Commit) -> None:
        self.commits[commit.sha] = commit

    def put_deploy_range(self, deploy: DeployRange) -> None:
        self.deploy_ranges[deploy.signal_id] = deploy

    # --- Lookup -------------------------------------------------------------------------

    def has_signal(self, alert_key: str, status: str, occurred_at: datetime) -> bool:
        return any(
            s.signal.alert_key == alert_key
            and s.signal.status.value == status
            and s.signal.occurred_at == occurred_at
            for s in self.signals.values()
        )

    def active_incident_for_service(self, service: str, opened_since: datetime) -> Incident | None:
        found = [
            i
            for i in self.incidents.values()
            if i.service == service and i.is_active and i.signal_time >= opened_since
        ]
        return max(found, key=lambda i: i.signal_time) if found else None

    def firing_alert_count(self, incident_id: str) -> int:
        return sum(
            1
            for a in self.alerts.values()
            if a.incident_id == incident_id and a.status is not SignalStatus.RESOLVED
        )

    def unattached_signal_ids(self, alert_key: str) -> list[int]:
        return sorted(
            i
            for i, s in self.signals.items()
            if s.signal.alert_key == alert_key and s.incident_id is None
        )

    def changes_for_service(
        self, service: str, since: datetime, until: datetime
    ) -> list[StoredSignal]:
        found = [
            s
            for s in self.signals.values()
            if s.signal.service == service
            and s.signal.kind.is_change
            and since <= s.signal.occurred_at <= until
        ]
        return sorted(found, key=lambda s: (s.signal.occurred_at, s.id))

    def incidents_near_change(
        self, service: str, at: datetime, window: timedelta
    ) -> list[Incident]:
        found = [
            i
            for i in self.incidents.values()
            if i.service == service
            and (
                at <= i.signal_time <= at + window
                or (i.state is not IncidentState.RESOLVED and i.signal_time < at)
            )
        ]
        return sorted(found, key=lambda i: i.number)

    def next_incident_number(self) -> int:
        return max((i.number for i in self.incidents.values()), default=0) + 1

    # --- PushLookup ---------------------------------------------------------------------

    def open_sessions(self) -> list[AgentSession]:
        return sorted((s for s in self.sessions.values() if s.ended_at is None), key=lambda s: s.id)

    def pushes_for_incident(
        self, incident_id: str, session_ids: Collection[str] | None = None
    ) -> list[Push]:
        return sorted(
            (
                p
                for p in self.pushes.values()
                if p.incident_id == incident_id
                and (session_ids is None or p.session_id in session_ids)
            ),
            key=lambda p: p.number,
        )

    def has_pushes(self, incident_id: str) -> bool:
        return any(p.incident_id == incident_id for p in self.pushes.values())

    def next_push_number(self) -> int:
        return max((p.number for p in self.pushes.values()), default=0) + 1

    def next_note_number(self) -> int:
        return max((n.number for n in self.notes.values()), default=0) + 1

    def approved_count_since(self, session_id: str, since: datetime) -> int:
        return sum(
            1
            for p in self.pushes.values()
            if p.session_id == session_id
            and p.decided_at is not None
            and p.decided_at >= since
            and p.reject_reason is None
        )

    def suspect_changes(self, incident_id: str) -> list[StoredSignal]:
        found = [
            self.signals[link.signal_id]
            for link in self.change_links.values()
            if link.incident_id == incident_id and link.relation == "suspect"
        ]
        return sorted(found, key=lambda s: (s.signal.occurred_at, s.id))
