"""The fold from journal entries to state: one function, used live and for replay.

``apply`` reads and writes entities through a :class:`Tables` implementation: the SQLite
projection while live, plain dictionaries when replaying up to a time. Nothing here decides
anything; decisions were made when the entries were written (see :mod:`incidents`).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any, Protocol

from oncall_tui.core.journal import (
    ChangeLinked,
    FreezeChanged,
    IncidentOpened,
    JournalEntry,
    SignalAttached,
    SignalRecorded,
    StateChanged,
)
from oncall_tui.core.models import (
    AlertState,
    ChangeLink,
    Incident,
    IncidentState,
    Link,
    Severity,
    SignalStatus,
    StoredSignal,
)
from oncall_tui.core.projection_agents import (
    AGENT_HANDLERS,
    AgentTables,
    Handlers,
    at_of,
    register,
)

MAX_INCIDENT_LINKS = 12


class Tables(AgentTables, Protocol):
    """Entity access for the fold. Implementations must not interpret the entities."""

    def get_incident(self, incident_id: str) -> Incident | None: ...
    def put_incident(self, incident: Incident) -> None: ...
    def get_signal(self, signal_id: int) -> StoredSignal | None: ...
    def put_signal(self, stored: StoredSignal) -> None: ...
    def get_alert(self, alert_key: str) -> AlertState | None: ...
    def put_alert(self, alert: AlertState) -> None: ...
    def put_change_link(self, link: ChangeLink) -> None: ...


class ProjectionError(ValueError):
    """A journal entry refers to something the projection does not have."""


def apply(entry: JournalEntry, tables: Tables) -> None:
    """Apply one journal entry. Unknown kinds are ignored (later versions add kinds)."""
    body = entry.data
    if body is None:
        return
    handler = _HANDLERS.get(type(body))
    if handler is not None:
        handler(body, entry, tables)


def fold(entries: Iterable[JournalEntry], tables: Tables) -> Tables:
    """State after ``entries``, from an empty ``tables``: replay is this, up to a time."""
    for entry in entries:
        apply(entry, tables)
    return tables


def _signal_recorded(body: SignalRecorded, entry: JournalEntry, tables: Tables) -> None:
    signal = body.signal
    tables.put_signal(StoredSignal(id=entry.seq, signal=signal))
    if signal.kind.is_change or signal.status is SignalStatus.NOTICE:
        return
    alert = tables.get_alert(signal.alert_key)
    if alert is None:
        tables.put_alert(
            AlertState(
                alert_key=signal.alert_key, status=signal.status, status_at=signal.occurred_at
            )
        )
    elif signal.occurred_at >= alert.status_at:
        # Out-of-order deliveries: an older status never overwrites a newer one.
        tables.put_alert(
            alert.model_copy(update={"status": signal.status, "status_at": signal.occurred_at})
        )


def _incident_opened(body: IncidentOpened, entry: JournalEntry, tables: Tables) -> None:
    # Opened when the entry was written (our receipt of the signal); the body's ``at`` is the
    # signal's own time, kept beside it. Entries of every version carry both.
    at = entry.ts
    incident = Incident(
        id=body.incident_id,
        number=body.number,
        title=body.title,
        service=body.service,
        services=[body.service] if body.service else [],
        severity=Severity(body.severity),
        state=IncidentState.TRIGGERED,
        opened_at=at,
        signal_started_at=at_of(body.at, entry),
        updated_at=at,
    )
    tables.put_incident(incident)
    _attach(incident.id, int(body.signal_id), at, entry, tables)


def _signal_attached(body: SignalAttached, entry: JournalEntry, tables: Tables) -> None:
    _attach(body.incident_id, int(body.signal_id), entry.ts, entry, tables)


def _attach(
    incident_id: str, signal_id: int, at: datetime, entry: JournalEntry, tables: Tables
) -> None:
    incident = _incident(tables, incident_id)
    stored = tables.get_signal(signal_id)
    if stored is None:
        raise ProjectionError(f"entry {entry.seq}: unknown signal {signal_id}")
    signal = stored.signal
    # Performance: made anew rather than copied (pydantic's copy takes twice as long), as
    # every signal of a storm is attached; every field is given, as a copy would have it.
    tables.put_signal(StoredSignal(id=stored.id, incident_id=incident_id, signal=signal))
    alert = tables.get_alert(signal.alert_key)
    if alert is not None and alert.incident_id != incident_id:
        tables.put_alert(
            AlertState(
                alert_key=alert.alert_key,
                incident_id=incident_id,
                status=alert.status,
                status_at=alert.status_at,
            )
        )
    severity = incident.severity
    worse = signal.severity.rank > severity.rank  # Severity.worst of the two, without a key
    if worse and signal.status not in (SignalStatus.RESOLVED, SignalStatus.NOTICE):
        severity = signal.severity
    last = (
        signal.occurred_at
        if incident.last_signal_at is None
        else max(incident.last_signal_at, signal.occurred_at)
    )
    tables.put_incident(
        incident.model_copy(
            update={
                "severity": severity,
                "signal_count": incident.signal_count + 1,
                "last_signal_at": last,
                "updated_at": at,
                "sources": _add(incident.sources, signal.source),
                "services": _add(incident.services, signal.service),
                "links": _add_links(incident.links, signal.links),
            }
        )
    )


def _state_changed(body: StateChanged, entry: JournalEntry, tables: Tables) -> None:
    incident = _incident(tables, body.incident_id)
    state = IncidentState(body.state)
    at = at_of(body.at, entry)
    update: dict[str, Any] = {"state": state, "updated_at": at}
    if state is IncidentState.ACKNOWLEDGED:
        update["acknowledged_at"] = at
    elif state is IncidentState.MITIGATED:
        update["mitigated_at"] = at
    elif state is IncidentState.RESOLVED:
        update["resolved_at"] = at
    else:
        update["resolved_at"] = None
    tables.put_incident(incident.model_copy(update=update))


def _freeze_changed(body: FreezeChanged, entry: JournalEntry, tables: Tables) -> None:
    incident = _incident(tables, body.incident_id)
    tables.put_incident(
        incident.model_copy(
            update={"deploy_freeze": bool(body.frozen), "updated_at": at_of(body.at, entry)}
        )
    )


def _change_linked(body: ChangeLinked, entry: JournalEntry, tables: Tables) -> None:
    tables.put_change_link(
        ChangeLink(
            incident_id=body.incident_id,
            signal_id=int(body.signal_id),
            relation=body.relation,
        )
    )


def _incident(tables: Tables, incident_id: str) -> Incident:
    incident = tables.get_incident(incident_id)
    if incident is None:
        raise ProjectionError(f"unknown incident {incident_id}")
    return incident


def _add(items: list[str], item: str | None) -> list[str]:
    return items if item is None or item in items else [*items, item]


def _add_links(links: list[Link], new: list[Link]) -> list[Link]:
    if not new or len(links) >= MAX_INCIDENT_LINKS:
        return links  # nothing to add: most signals of a storm
    merged = list(links)
    # Performance: membership by (href, text), the whole of a Link, instead of pydantic's
    # __eq__ against each kept link; this runs for every signal attached in a storm.
    known = {(link.href, link.text) for link in merged}
    for link in new:
        if len(merged) >= MAX_INCIDENT_LINKS:
            break
        if (link.href, link.text) not in known:
            merged.append(link)
            known.add((link.href, link.text))
    return merged


_HANDLERS: Handlers[Tables] = {**AGENT_HANDLERS}
register(_HANDLERS, SignalRecorded, _signal_recorded)
register(_HANDLERS, IncidentOpened, _incident_opened)
register(_HANDLERS, SignalAttached, _signal_attached)
register(_HANDLERS, StateChanged, _state_changed)
register(_HANDLERS, ChangeLinked, _change_linked)
register(_HANDLERS, FreezeChanged, _freeze_changed)
