"""Rows of the projection for :class:`~oncall_tui.store.tables.SqlTables`: the shape of an
``incidents`` row, the rows a fold's transaction holds back (written together at the end, or
when a query needs them) and what it remembers of its own writes to answer without SQL."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
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


INCIDENT_BY_ID = (
    "SELECT data, number, state, severity_rank, service, opened_at, signal_started_at"
    " FROM incidents WHERE id = ?"
)
"""An incident's model, then its indexed columns as stored (see :class:`IncidentRows`)."""
_UPSERT_INCIDENTS = (
    # Performance: an upsert updates the row in place; REPLACE deleted and re-inserted it with
    # every index entry, once per signal attached. (A number never moves to another id: ids
    # are made from numbers.)
    "INSERT INTO incidents (id, number, state, severity_rank, service, opened_at,"
    " signal_started_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
    " ON CONFLICT(id) DO UPDATE SET"
    " number = excluded.number, state = excluded.state,"
    " severity_rank = excluded.severity_rank, service = excluded.service,"
    " opened_at = excluded.opened_at, signal_started_at = excluded.signal_started_at,"
    " updated_at = excluded.updated_at, data = excluded.data"
)
_UPDATE_INCIDENT_DATA = "UPDATE incidents SET updated_at = ?, data = ? WHERE id = ?"


class IncidentRows:
    """Writes ``incidents`` rows; one whose indexed columns are known to be stored as they
    are now is updated in its time and data alone.

    Performance: an upsert sets every column, and SQLite rewrites the entries of every index
    over a column it sets, changed or not: each signal attached to an incident rewrote the
    pages of its six indexes, a quarter of the pages a one-delivery commit writes. Most
    signals change only the incident's count, times and links, which no index but the one
    over its resolution (part of its data) reads. ``remember``: the columns read or written
    are remembered (a write transaction's tables, until :meth:`forget`).
    """

    def __init__(self, conn: sqlite3.Connection, *, remember: bool) -> None:
        self.conn = conn
        self._stored: dict[str, tuple[object, ...]] | None = {} if remember else None
        """Id → (number, state, severity rank, service, opened at, signal start) as stored."""

    def read(self, incident_id: str, row: Sequence[Any]) -> None:
        """A row of :data:`INCIDENT_BY_ID`, as the table holds it now."""
        if self._stored is not None:
            self._stored[incident_id] = tuple(row[1:])

    def write(self, incidents: Iterable[Incident]) -> None:
        upserts: list[tuple[object, ...]] = []
        updates: list[tuple[object, ...]] = []
        for incident in incidents:
            row = incident_row(incident)
            indexed = row[1:7]
            if self._stored is None:
                upserts.append(row)
                continue
            if self._stored.get(incident.id) == indexed:
                updates.append((row[7], row[8], incident.id))
            else:
                upserts.append(row)
            self._stored[incident.id] = indexed
        if upserts:
            self.conn.executemany(_UPSERT_INCIDENTS, upserts)
        if updates:
            self.conn.executemany(_UPDATE_INCIDENT_DATA, updates)

    def forget(self) -> None:
        """After a rollback to a savepoint: what was written since may not be stored."""
        if self._stored is not None:
            self._stored.clear()


def write_signals(
    conn: sqlite3.Connection, signals: Iterable[StoredSignal], spelled: Mapping[int, str]
) -> None:
    """``spelled``: the JSON of some of the signals (by id), as the journal spelled it."""
    # Only incident_id and data ever change once a signal is recorded (the Signal is frozen
    # and recorded at this id, its journal seq), so the upsert updates just those.
    conn.executemany(
        "INSERT INTO signals (id, incident_id, source, kind, service, status, alert_key,"
        " occurred_at, delivery_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        " ON CONFLICT(id) DO UPDATE SET incident_id = excluded.incident_id,"
        " data = excluded.data",
        [_signal_row(stored, spelled.get(stored.id)) for stored in signals],
    )


def _signal_row(stored: StoredSignal, signal_json: str | None) -> tuple[object, ...]:
    # Performance: each field of a pydantic model is read through its __getattr__ hook, at
    # several times a plain attribute's cost; a storm writes a row per signal.
    signal = stored.signal
    return (
        stored.id,
        stored.incident_id,
        signal.source,
        signal.kind.value,
        signal.service,
        signal.status.value,
        signal.alert_key,
        iso(signal.occurred_at),
        signal.delivery_id,
        _signal_data(stored, signal_json),
    )


def held_rows_writer(
    conn: sqlite3.Connection,
    write: Callable[[sqlite3.Connection, list[R]], None],
    alert_key: Callable[[R], str],
    fresh_alerts: set[str],
) -> Callable[[Iterable[R]], None]:
    """What writes a :class:`Held`'s rows: ``write``, then their alerts are no longer fresh
    (:meth:`~oncall_tui.store.tables.SqlTables.expect_alerts`: the table answers for them)."""

    def write_held(rows: Iterable[R]) -> None:
        written = list(rows)
        write(conn, written)
        if fresh_alerts:
            fresh_alerts.difference_update(map(alert_key, written))

    return write_held


def _signal_data(stored: StoredSignal, signal_json: str | None) -> str:
    """The row's data, pydantic's JSON of ``stored``. Performance: a storm's signal was spelled
    twice, for its journal row and for this; the journal's spelling is pydantic's (ASCII, as
    the journal keeps it), so the row is made of it when the incident id needs no escape."""
    seq, incident_id = stored.id, stored.incident_id
    if signal_json is None or type(seq) is not int:
        return stored.model_dump_json()
    if incident_id is None:
        return f'{{"id":{seq},"incident_id":null,"signal":{signal_json}}}'
    plain = incident_id.isascii() and incident_id.isprintable()
    if plain and '"' not in incident_id and "\\" not in incident_id:
        return f'{{"id":{seq},"incident_id":"{incident_id}","signal":{signal_json}}}'
    return stored.model_dump_json()


def write_alerts(conn: sqlite3.Connection, alerts: Iterable[AlertState]) -> None:
    conn.executemany(
        "INSERT INTO alerts (alert_key, incident_id, status, status_at) VALUES (?, ?, ?, ?)"
        " ON CONFLICT(alert_key) DO UPDATE SET incident_id = excluded.incident_id,"
        " status = excluded.status, status_at = excluded.status_at",
        [
            (alert.alert_key, alert.incident_id, alert.status.value, iso(alert.status_at))
            for alert in alerts
        ],
    )


KEYS_PER_STATEMENT = 500
"""Keys (alert keys, session ids) asked about per statement (SQLite allows 32,766 parameters)."""


def key_chunks(keys: Sequence[str]) -> Iterator[tuple[Sequence[str], str]]:
    """``keys`` a statement's worth at a time, each with its ``?,?,...`` placeholders."""
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        chunk = keys[start : start + KEYS_PER_STATEMENT]
        yield chunk, ",".join("?" * len(chunk))


def stored_alert_keys(conn: sqlite3.Connection, alert_keys: Sequence[str]) -> set[str]:
    """Those of ``alert_keys`` that have a signal or an alert row stored."""
    found: set[str] = set()
    for chunk, marks in key_chunks(alert_keys):
        rows = conn.execute(
            f"SELECT alert_key FROM signals WHERE alert_key IN ({marks})"
            f" UNION SELECT alert_key FROM alerts WHERE alert_key IN ({marks})",
            (*chunk, *chunk),
        ).fetchall()
        found.update(str(row[0]) for row in rows)
    return found


def pushes_of_sessions(
    conn: sqlite3.Connection, incident_id: str, session_ids: Sequence[str]
) -> list[tuple[int, str]]:
    """(number, data) of the incident's pushes to any of ``session_ids``, in no order."""
    found: list[tuple[int, str]] = []
    for chunk, marks in key_chunks(session_ids):
        found += conn.execute(
            f"SELECT number, data FROM pushes WHERE incident_id = ? AND session_id IN ({marks})",
            (incident_id, *chunk),
        ).fetchall()
    return found


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
        self.put: dict[str, tuple[datetime, str]] = {}
        """Id → start, and its text, of the service's incidents the transaction put (their
        models are cached)."""

    def saw(self, incident: Incident, service: str) -> None:
        """``incident`` was put: its cached model now answers for it."""
        self.stored.pop(incident.id, None)
        if incident.service != service:
            self.put.pop(incident.id, None)
            return
        start = incident.signal_time
        put = self.put.get(incident.id)
        if put is None or put[0] is not start:  # a storm puts it once per signal, start kept
            self.put[incident.id] = (start, iso(start))

    def latest(self, since: str, cached: dict[str, Incident]) -> str | None:
        """The id of the one started last at ``since`` or later (the first opened of a tie)."""
        starts = [(at, -number, i) for i, (at, number) in self.stored.items() if at >= since]
        for incident_id, (_, at) in self.put.items():
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

    def write_now(self, rows: Iterable[R]) -> None:
        """Write ``rows`` at once, not held (tables outside a write transaction of ours)."""
        self._write(rows)

    def clear(self) -> None:
        self.rows.clear()


class HeldSignals(Held[int, StoredSignal]):
    """Held signals, also indexed by what the lookups ask of them.

    Performance: the lookups scanned every held row, several times per signal recorded. What
    is indexed never changes once a signal is recorded (only its incident and data do).
    """

    def __init__(
        self, write: Callable[[Iterable[StoredSignal]], None], spelled: dict[int, str]
    ) -> None:
        super().__init__(write)
        self.occurrences: set[tuple[str, str, datetime]] = set()
        """(alert key, status, occurred at) of each held signal, as ``has_signal`` asks."""
        self.ids_by_alert: dict[str, list[int]] = {}
        self.changes = 0
        """Held signals of changes (deploys, rollbacks), which change queries must see."""
        self.none_unattached: set[str] = set()
        """Alerts the table had no unattached signal of when asked (:data:`SIGNAL_AND_ALERT`):
        true until held signals are written (or dropped), which clears it."""
        self.spelled = spelled
        """The JSON of held signals by id, as the journal's writer spelled it (their rows are
        made of it: :func:`write_signals`; the tables give it)."""

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
        self.spelled.clear()
