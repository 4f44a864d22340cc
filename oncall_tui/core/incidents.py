"""Grouping signals into incidents, and the incident state machine.

The functions here decide; they return journal entries to append (``kind``, ``body``) and never
write anything themselves. They see the current state through :class:`Lookup`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from oncall_tui.core.journal import (
    ChangeLinked,
    IncidentOpened,
    JournalBody,
    JournalEntry,
    SignalAttached,
    SignalRecorded,
    StateChanged,
)
from oncall_tui.core.models import (
    AlertState,
    Incident,
    IncidentState,
    Signal,
    SignalStatus,
    StoredSignal,
)

Event = SignalAttached | IncidentOpened | ChangeLinked | StateChanged
"""A decision about an incident, as the journal body that records it."""
"""A journal entry to append: its kind and body."""


class Append(Protocol):
    """Appends an entry (body, actor) and folds it into the state ``Lookup`` reads; ``text``
    is the body's journal text, when the caller has it spelled already."""

    def __call__(
        self, body: JournalBody, actor: str, *, text: str | None = None
    ) -> JournalEntry: ...


@dataclass(frozen=True)
class GroupingRules:
    correlation_window: timedelta = timedelta(minutes=30)
    """A firing signal joins an active incident of the same service opened this recently (both
    by the signals' own times: see :attr:`Incident.signal_time`)."""
    suspect_window: timedelta = timedelta(hours=1)
    """Changes this long before an incident opened are linked to it as suspects."""


class Lookup(Protocol):
    """The state the decisions need, answered by the live projection (or a replayed one)."""

    def get_incident(self, incident_id: str) -> Incident | None: ...
    def get_alert(self, alert_key: str) -> AlertState | None: ...
    def has_signal(self, alert_key: str, status: str, occurred_at: datetime) -> bool: ...
    def active_incident_for_service(
        self, service: str, opened_since: datetime
    ) -> Incident | None: ...
    def firing_alert_count(self, incident_id: str) -> int: ...
    def unattached_signal_ids(self, alert_key: str) -> list[int]: ...
    def changes_for_service(
        self, service: str, since: datetime, until: datetime
    ) -> list[StoredSignal]: ...
    def incidents_near_change(
        self, service: str, at: datetime, window: timedelta
    ) -> list[Incident]: ...
    def next_incident_number(self) -> int: ...


def incident_id(number: int) -> str:
    return f"INC-{number}"


def is_duplicate(signal: Signal, lookup: Lookup) -> bool:
    """The same status of the same alert at the same time was already recorded (poll + webhook)."""
    return lookup.has_signal(signal.alert_key, signal.status.value, signal.occurred_at)


def record_signal(
    signal: Signal, append: Append, lookup: Lookup, rules: GroupingRules, text: str | None = None
) -> list[str] | None:
    """Record one signal and what it means for incidents; ``text``: the journal text of its
    ``signal.recorded`` entry, if spelled already.

    Returns the ids of the incidents it touched, or None when it was a duplicate (the same
    status of the same alert already came by another path, e.g. a poll and a webhook).
    """
    if is_duplicate(signal, lookup):
        return None
    entry = append(SignalRecorded(signal), f"source:{signal.source}", text=text)
    touched: dict[str, None] = {}
    for event in decide_signal(signal, entry.seq, lookup, rules):
        append(event, "engine")
        touched[event.incident_id] = None
    return list(touched)


def decide_signal(
    signal: Signal, signal_id: int, lookup: Lookup, rules: GroupingRules
) -> list[Event]:
    """What recording ``signal`` (already projected as ``signal_id``) means for incidents.

    Must be called with entries applied one by one: each decision sees the previous ones.
    """
    if signal.kind.is_change:
        return _link_change(signal, signal_id, lookup, rules)
    alert = lookup.get_alert(signal.alert_key)
    if signal.status is SignalStatus.NOTICE:
        # A note or reassignment joins its incident's record and changes nothing else.
        if alert is not None and alert.incident_id is not None:
            return [SignalAttached(alert.incident_id, signal_id)]
        return []
    if alert is not None and alert.incident_id is not None:
        incident = lookup.get_incident(alert.incident_id)
        if incident is not None:
            return _update_incident(incident, signal, signal_id, alert, lookup)
    if signal.status is SignalStatus.RESOLVED:
        # Resolve before trigger (or for an alert we never saw): kept as a signal, and the
        # trigger, when it arrives, finds the alert already resolved.
        return []
    return _open_or_join(signal, signal_id, alert, lookup, rules)


def _open_or_join(
    signal: Signal, signal_id: int, alert: AlertState | None, lookup: Lookup, rules: GroupingRules
) -> list[Event]:
    events: list[Event] = []
    joined = None
    if signal.service:
        joined = lookup.active_incident_for_service(
            signal.service, signal.occurred_at - rules.correlation_window
        )
    if joined is not None:
        target = joined.id
        events.append(SignalAttached(target, signal_id))
    else:
        at = signal.occurred_at.isoformat()
        number = lookup.next_incident_number()
        target = incident_id(number)
        events.append(
            IncidentOpened(
                incident_id=target,
                number=number,
                title=signal.title,
                service=signal.service,
                severity=signal.severity.value,
                signal_id=signal_id,
                at=at,
            )
        )
        if signal.service:
            since = signal.occurred_at - rules.suspect_window
            for change in lookup.changes_for_service(signal.service, since, signal.occurred_at):
                events.append(ChangeLinked(target, change.id, "suspect"))
    # Signals of this alert that arrived before it had an incident (a resolve that overtook
    # its trigger) belong to it too.
    for earlier in lookup.unattached_signal_ids(signal.alert_key):
        if earlier != signal_id:
            events.append(SignalAttached(target, earlier))
    if joined is None and signal.status is SignalStatus.ACKNOWLEDGED:
        # First seen already acknowledged (a missed trigger, or a poll after the ack).
        events.append(
            _state(
                target,
                IncidentState.ACKNOWLEDGED,
                signal.occurred_at.isoformat(),
                f"acknowledged in {signal.source}",
            )
        )
    if alert is not None and alert.status is SignalStatus.RESOLVED and joined is None:
        events.append(
            _state(
                target,
                IncidentState.RESOLVED,
                alert.status_at.isoformat(),
                "the resolve arrived before the trigger",
            )
        )
    return events


def _update_incident(
    incident: Incident, signal: Signal, signal_id: int, alert: AlertState, lookup: Lookup
) -> list[Event]:
    events: list[Event] = [SignalAttached(incident.id, signal_id)]
    stale = signal.occurred_at < alert.status_at
    if stale:
        return events
    at = signal.occurred_at.isoformat()
    if signal.status is SignalStatus.RESOLVED:
        if incident.is_active and lookup.firing_alert_count(incident.id) == 0:
            events.append(_state(incident.id, IncidentState.RESOLVED, at, "all alerts resolved"))
    elif signal.status is SignalStatus.ACKNOWLEDGED:
        if incident.state is IncidentState.TRIGGERED:
            events.append(
                _state(
                    incident.id, IncidentState.ACKNOWLEDGED, at, f"acknowledged in {signal.source}"
                )
            )
    elif not incident.is_active:
        events.append(
            _state(
                incident.id, IncidentState.TRIGGERED, at, f"reopened: {signal.source} fired again"
            )
        )
    return events


def _link_change(
    signal: Signal, signal_id: int, lookup: Lookup, rules: GroupingRules
) -> list[Event]:
    if not signal.service:
        return []
    events: list[Event] = []
    for incident in lookup.incidents_near_change(
        signal.service, signal.occurred_at, rules.suspect_window
    ):
        # Both by the senders' clock: the change's own time against the incident's first signal.
        relation = "suspect" if incident.signal_time >= signal.occurred_at else "during"
        events.append(ChangeLinked(incident.id, signal_id, relation))
    return events


def _state(incident_id: str, state: IncidentState, at: str, reason: str) -> StateChanged:
    return StateChanged(incident_id, state.value, at, reason)


class TransitionError(ValueError):
    """An engineer asked for a state change that makes no sense (e.g. acknowledge a resolved one)."""


_ALLOWED: dict[IncidentState, set[IncidentState]] = {
    IncidentState.TRIGGERED: {
        IncidentState.ACKNOWLEDGED,
        IncidentState.MITIGATED,
        IncidentState.RESOLVED,
    },
    IncidentState.ACKNOWLEDGED: {IncidentState.MITIGATED, IncidentState.RESOLVED},
    IncidentState.MITIGATED: {IncidentState.RESOLVED, IncidentState.ACKNOWLEDGED},
    IncidentState.RESOLVED: {IncidentState.TRIGGERED},
}


def change_state(
    incident: Incident, state: IncidentState, now: datetime, reason: str
) -> StateChanged:
    """An engineer moves an incident along ``triggered → acknowledged → mitigated → resolved``."""
    if state not in _ALLOWED[incident.state]:
        raise TransitionError(
            f"{incident.id} is {incident.state.value}; it cannot become {state.value}"
        )
    return _state(incident.id, state, now.isoformat(), reason)
