"""Rows of the projection for :class:`~oncall_tui.store.tables.SqlTables`: the shape of an
``incidents`` row, the rows a fold's transaction holds back (written together at the end, or
when a query needs them) and what it remembers of its own writes to answer without SQL."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from oncall_tui.core.clock import iso
from oncall_tui.core.models import AlertState, Incident, IncidentState, SignalStatus, StoredSignal

K = TypeVar("K")
R = TypeVar("R")
MAX_HELD_ROWS = 64
"""Signals (or alerts) held back at most: the lookups scan the held rows, and a transaction
recording thousands (a bulk import) must not make each lookup scan them all."""

SIGNAL_AND_ALERT = (
    "SELECT EXISTS (SELECT 1 FROM signals WHERE alert_key = ? AND status = ? AND occurred_at = ?),"
    " EXISTS (SELECT 1 FROM signals WHERE alert_key = ? AND +incident_id IS NULL),"
    " a.alert_key, a.incident_id, a.status, a.status_at"
    " FROM (SELECT 1) AS one LEFT JOIN alerts AS a ON a.alert_key = ?"
)
"""What the fold asks first about a signal, in one statement: whether this occurrence of its
alert is recorded, whether the alert has unattached signals stored, and the alert's row (which
it asks next). Parameters: alert key, status, occurred at, alert key, alert key. On PostgreSQL
three round trips to the server become one."""


def alert_state(row: Sequence[Any]) -> AlertState | None:
    """An ``alerts`` row (key, incident, status, status time) as its model; None for the nulls
    of a row that is not there (an outer join's)."""
    if row[0] is None:
        return None
    return AlertState(
        alert_key=row[0], incident_id=row[1], status=SignalStatus(row[2]), status_at=row[3]
    )


def incident_row(incident: Incident) -> tuple[object, ...]:
    """The ``incidents`` row of ``incident``, in the table's column order."""
    return (
        incident.id,
        incident.number,
        incident.state.value,
        incident.severity.rank,
        incident.service,
        iso(incident.opened_at),
        iso(incident.signal_time),
        iso(incident.updated_at),
        incident.model_dump_json(),
    )


class ActiveForService:
    """The incidents of one service that were active and started at ``since`` or later when
    the table was asked, with those the transaction has put since: whatever
    :meth:`~oncall_tui.store.tables.SqlTables.active_incident_for_service` can answer for this ``since`` or a later one.
    """

    def __init__(self, since: str, stored: dict[str, tuple[str, int]]) -> None:
        self.since = since
        self.stored = stored
        """Id → (start, number) as the table has them, for those the transaction did not put."""
        self.put: dict[str, str] = {}
        """Id → start of the service's incidents the transaction put (their models are
        cached)."""

    def saw(self, incident: Incident, service: str) -> None:
        """``incident`` was put: its cached model now answers for it."""
        self.stored.pop(incident.id, None)
        if incident.service == service:
            self.put[incident.id] = iso(incident.signal_time)
        else:
            self.put.pop(incident.id, None)

    def latest(self, since: str, cached: dict[str, Incident]) -> str | None:
        """The id of the one started last at ``since`` or later (the first opened of a tie)."""
        starts = [(at, -number, i) for i, (at, number) in self.stored.items() if at >= since]
        for incident_id, at in self.put.items():
            incident = cached[incident_id]
            if at >= since and incident.state is not IncidentState.RESOLVED:
                starts.append((at, -incident.number, incident_id))
        return max(starts)[2] if starts else None


class Held(Generic[K, R]):
    """Rows a transaction holds back (see :class:`SqlTables`), written together by ``write``."""

    def __init__(self, write: Callable[[Iterable[R]], None]) -> None:
        self.rows: dict[K, R] = {}
        self._write = write

    def put(self, key: K, row: R) -> None:
        self.rows[key] = row
        if len(self.rows) >= MAX_HELD_ROWS:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self._write(self.rows.values())
            self.clear()

    def clear(self) -> None:
        self.rows.clear()


class HeldSignals(Held[int, StoredSignal]):
    """Held signals, also indexed by what the lookups ask of them.

    Performance: the lookups scanned every held row, several times per signal recorded. What
    is indexed never changes once a signal is recorded (only its incident and data do).
    """

    def __init__(self, write: Callable[[Iterable[StoredSignal]], None]) -> None:
        super().__init__(write)
        self.occurrences: set[tuple[str, str, datetime]] = set()
        """(alert key, status, occurred at) of each held signal, as ``has_signal`` asks."""
        self.ids_by_alert: dict[str, list[int]] = {}
        self.changes = 0
        """Held signals of changes (deploys, rollbacks), which change queries must see."""
        self.none_unattached: set[str] = set()
        """Alerts the table had no unattached signal of when asked (:data:`SIGNAL_AND_ALERT`):
        true until held signals are written (or dropped), which clears it."""

    def put(self, key: int, row: StoredSignal) -> None:
        if key not in self.rows:
            signal = row.signal
            self.occurrences.add((signal.alert_key, signal.status.value, signal.occurred_at))
            self.ids_by_alert.setdefault(signal.alert_key, []).append(key)
            self.changes += signal.kind.is_change
        super().put(key, row)

    def clear(self) -> None:
        super().clear()
        self.occurrences.clear()
        self.ids_by_alert.clear()
        self.changes = 0
        self.none_unattached.clear()
