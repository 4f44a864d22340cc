"""The live projection: the fold's :class:`~oncall_tui.core.projection.Tables` over SQLite,
plus the queries the decisions need (:class:`~oncall_tui.core.incidents.Lookup`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from functools import partial
from operator import attrgetter

from oncall_tui.core.agents import AgentSession, Note, Push
from oncall_tui.core.clock import iso
from oncall_tui.core.commit_records import (
    commit_from_json,
    commit_to_json,
    deploy_to_json,
)
from oncall_tui.core.commits import Commit, DeployRange
from oncall_tui.core.journal import GuardAllowed, GuardDecided
from oncall_tui.core.models import (
    AlertState,
    ChangeLink,
    Incident,
    StoredSignal,
)
from oncall_tui.core.topology import Service
from oncall_tui.store import projection_rows
from oncall_tui.store.hook_queries import guard_paths_key
from oncall_tui.store.projection_rows import ActiveForService, Held, HeldSignals, IncidentRows
from oncall_tui.store.schema import SIGNAL_CHANGE_INDEXED

_ACTIVE_FOR_SERVICE = (
    "SELECT id, signal_started_at, number FROM incidents"
    " WHERE service = ? AND state != 'resolved' AND signal_started_at >= ?"
)


class SqlTables:
    """Entity reads and writes on one connection; the caller owns the transaction.

    ``cache=True`` (a :class:`~oncall_tui.store.journal.Writer`'s tables) remembers the incidents,
    signals and alerts it read or wrote during the transaction. Performance: recording one signal
    reads back what the fold just wrote (its signal, its alert twice, its incident twice), and
    parsing those rows' JSON was a third of the ingest CPU in a storm. The cache lives as long
    as the transaction. Cached models are shared: like every model here, they are replaced with
    ``model_copy``, never mutated in place.

    It also holds back the writes of signals and alerts, each of which the fold puts twice (when
    recorded, then when attached to its incident), and writes each row once: at :meth:`flush`,
    which the owner calls before it commits or sets a savepoint, before a query whose answer a
    held row could change (the lookups that can, read the held rows instead), or once
    ``projection_rows.MAX_HELD_ROWS`` are held. Whoever rolls back to a savepoint must call :meth:`forget`.

    Within :meth:`holding_incidents` (the fold of deliveries) incident rows are held back too:
    a storm's fold rewrote its incident's row, JSON and every index entry, once per signal.
    """

    def __init__(self, conn: sqlite3.Connection, *, cache: bool = False) -> None:
        self.conn = conn
        self._incidents: dict[str, Incident] | None = {} if cache else None
        self._signals: dict[int, StoredSignal] | None = {} if cache else None
        self._alerts: dict[str, AlertState | None] | None = {} if cache else None
        self._incident_rows = IncidentRows(conn, remember=cache)
        self._holding_incidents = False
        self._active: dict[str, ActiveForService] | None = {} if cache else None
        self._suspects: dict[str, list[StoredSignal]] | None = {} if cache else None
        self._fresh_alerts: set[str] = set()
        """Alert keys with no signal or alert row stored (see :meth:`expect_alerts`)."""
        self.spelled_signals: dict[int, str] = {}
        """:attr:`HeldSignals.spelled <oncall_tui.store.projection_rows.HeldSignals.spelled>`."""
        # The held rows' writers are given what they use, not these tables: a bound method
        # would close a reference cycle, and the cache of every write transaction (a batch's
        # thousands of models) would then wait for the garbage collector instead of going
        # with the transaction. Collecting them was 4-8 % of a batch's fold.
        write_signals = partial(projection_rows.write_signals, spelled=self.spelled_signals)
        self._held_signals = HeldSignals(
            projection_rows.held_rows_writer(
                conn, write_signals, attrgetter("signal.alert_key"), self._fresh_alerts
            ),
            self.spelled_signals,
        )
        self._held_alerts: Held[str, AlertState] = Held(
            projection_rows.held_rows_writer(
                conn, projection_rows.write_alerts, attrgetter("alert_key"), self._fresh_alerts
            )
        )
        self._held_incidents: Held[str, Incident] = Held(self._incident_rows.write)

    @contextmanager
    def holding_incidents(self) -> Iterator[None]:
        """Hold back incident rows until the block ends (or :meth:`flush`), for code that reads
        incidents only through these tables: any other query of ``incidents`` would miss them.
        """
        if self._incidents is None:
            raise ValueError("only a transaction's cached tables can hold incidents back")
        self._holding_incidents = True
        try:
            yield
        finally:
            self._holding_incidents = False
        self._held_incidents.flush()

    def forget(self) -> None:
        """Drop what the cache remembers and holds back (after a rollback to a savepoint)."""
        for cached in (self._incidents, self._signals, self._alerts, self._active, self._suspects):
            if cached is not None:
                cached.clear()
        self._held_signals.clear()
        self._held_alerts.clear()
        self._held_incidents.clear()
        self._incident_rows.forget()
        self._fresh_alerts.clear()

    def expect_alerts(self, alert_keys: Iterable[str]) -> None:
        """The alert keys of signals about to be recorded, asked about all at once.

        Performance: the fold asks the table about each signal's alert before recording it,
        a statement per signal, and in a storm of new alerts the answer is always "nothing
        stored". Those found with nothing stored are answered without a query until a row of
        theirs is written (the held rows answer for what is not written yet, as before).
        """
        if self._alerts is None:
            return
        keys = [key for key in dict.fromkeys(alert_keys) if key not in self._alerts]
        stored = projection_rows.stored_alert_keys(self.conn, keys)
        self._fresh_alerts.update(key for key in keys if key not in stored)

    def flush(self) -> None:
        """Write the signals, alerts and incidents held back."""
        self._held_signals.flush()
        self._held_alerts.flush()
        self._held_incidents.flush()

    def _flush_changes(self) -> None:
        """Before a query of change signals (deploys, rollbacks): alerts held back cannot
        change its answer, so they stay held."""
        if self._held_signals.changes:
            self._held_signals.flush()

    # --- Tables -------------------------------------------------------------------------

    def get_incident(self, incident_id: str) -> Incident | None:
        if self._incidents is not None and incident_id in self._incidents:
            return self._incidents[incident_id]
        row = self.conn.execute(projection_rows.INCIDENT_BY_ID, (incident_id,)).fetchone()
        if row is None:
            return None
        if self._incidents is not None:
            self._incident_rows.read(incident_id, row)
        return self._remember_incident(Incident.model_validate_json(row[0]))

    def _remember_incident(self, incident: Incident) -> Incident:
        if self._incidents is not None:
            self._incidents[incident.id] = incident
        return incident

    def _incident_row(self, incident_id: str, data: str) -> Incident:
        """A row a query found: the cached model when there is one (same content, no parse)."""
        if self._incidents is not None and incident_id in self._incidents:
            return self._incidents[incident_id]
        return self._remember_incident(Incident.model_validate_json(data))

    def put_incident(self, incident: Incident) -> None:
        self._remember_incident(incident)
        if self._active:
            for service, active in self._active.items():
                active.saw(incident, service)
        if self._holding_incidents:
            self._held_incidents.put(incident.id, incident)
        else:
            self._held_incidents.write_now([incident])

    def get_signal(self, signal_id: int) -> StoredSignal | None:
        if self._signals is not None and signal_id in self._signals:
            return self._signals[signal_id]
        row = self.conn.execute("SELECT data FROM signals WHERE id = ?", (signal_id,)).fetchone()
        stored = StoredSignal.model_validate_json(row[0]) if row else None
        if stored is not None and self._signals is not None:
            self._signals[signal_id] = stored
        return stored

    def put_signal(self, stored: StoredSignal) -> None:
        if self._signals is None:  # no transaction of ours to hold it back for
            self._held_signals.write_now([stored])
            return
        self._signals[stored.id] = stored
        if self._suspects and stored.signal.kind.is_change:
            self._suspects.clear()
        self._held_signals.put(stored.id, stored)

    def get_alert(self, alert_key: str) -> AlertState | None:
        if self._alerts is not None and alert_key in self._alerts:
            return self._alerts[alert_key]
        row = self.conn.execute(
            "SELECT alert_key, incident_id, status, status_at FROM alerts WHERE alert_key = ?",
            (alert_key,),
        ).fetchone()
        alert = projection_rows.alert_state(row) if row is not None else None
        if alert is not None and self._alerts is not None:
            self._alerts[alert_key] = alert
        return alert

    def put_alert(self, alert: AlertState) -> None:
        if self._alerts is None:
            self._held_alerts.write_now([alert])
            return
        self._alerts[alert.alert_key] = alert
        self._held_alerts.put(alert.alert_key, alert)

    def put_change_link(self, link: ChangeLink) -> None:
        if self._suspects is not None:
            self._suspects.clear()
        self.conn.execute(
            "INSERT OR REPLACE INTO change_links (incident_id, signal_id, relation) VALUES (?, ?, ?)",
            (link.incident_id, link.signal_id, link.relation),
        )

    def get_catalog(self) -> dict[str, Service]:
        rows = self.conn.execute("SELECT name, data FROM catalog ORDER BY name").fetchall()
        return {r[0]: Service.model_validate_json(r[1]) for r in rows}

    def put_catalog(self, services: dict[str, Service]) -> None:
        self.conn.execute("DELETE FROM catalog")
        self.conn.executemany(
            "INSERT INTO catalog (name, data) VALUES (?, ?)",
            [(name, service.model_dump_json()) for name, service in services.items()],
        )

    def get_session(self, session_id: str) -> AgentSession | None:
        row = self.conn.execute("SELECT data FROM sessions WHERE id = ?", (session_id,)).fetchone()
        return AgentSession.model_validate_json(row[0]) if row else None

    def put_session(self, session: AgentSession) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO sessions (id, repo, last_seen, ended_at, data) VALUES (?, ?, ?, ?, ?)",
            (
                session.id,
                session.repo,
                iso(session.last_seen),
                iso(session.ended_at) if session.ended_at else None,
                session.model_dump_json(),
            ),
        )

    def get_push(self, push_id: str) -> Push | None:
        row = self.conn.execute("SELECT data FROM pushes WHERE id = ?", (push_id,)).fetchone()
        return Push.model_validate_json(row[0]) if row else None

    def put_push(self, push: Push) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO pushes (id, number, incident_id, session_id, state, kind, proposed_at, data)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                push.id,
                push.number,
                push.incident_id,
                push.session_id,
                push.state.value,
                push.kind.value,
                iso(push.proposed_at),
                push.model_dump_json(),
            ),
        )

    def get_note(self, note_id: str) -> Note | None:
        row = self.conn.execute("SELECT data FROM notes WHERE id = ?", (note_id,)).fetchone()
        return Note.model_validate_json(row[0]) if row else None

    def put_note(self, note: Note) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO notes (id, number, service, incident_id, data) VALUES (?, ?, ?, ?, ?)",
            (note.id, note.number, note.service, note.incident_id, note.model_dump_json()),
        )

    def put_guard_decision(self, decision: GuardDecided, at: datetime) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO guard_decisions"
            " (session_id, incident_id, tool, paths, decision, service, at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                decision.session_id,
                decision.incident_id,
                decision.tool,
                guard_paths_key(decision.paths),
                decision.decision,
                decision.service,
                iso(at),
            ),
        )

    def put_guard_allowance(self, allowance: GuardAllowed) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO guard_allowances (session_id, path_glob, until, by)"
            " VALUES (?, ?, ?, ?)",
            (allowance.session_id, allowance.path_glob, allowance.until, allowance.by),
        )

    def get_commit(self, sha: str) -> Commit | None:
        row = self.conn.execute("SELECT data FROM commits WHERE sha = ?", (sha,)).fetchone()
        return commit_from_json(json.loads(row[0])) if row else None

    def put_commit(self, commit: Commit) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO commits (sha, repo, session_id, authored_at, data)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                commit.sha,
                commit.repo,
                commit.session_id,
                iso(commit.authored_at),
                json.dumps(commit_to_json(commit), sort_keys=True),
            ),
        )

    def put_deploy_range(self, deploy: DeployRange) -> None:
        self.conn.execute(
            "INSERT OR REPLACE INTO deploy_ranges (signal_id, service, sha, data) VALUES (?, ?, ?, ?)",
            (
                deploy.signal_id,
                deploy.service,
                deploy.sha,
                json.dumps(deploy_to_json(deploy), sort_keys=True),
            ),
        )

    # --- Lookup -------------------------------------------------------------------------

    def has_signal(self, alert_key: str, status: str, occurred_at: datetime) -> bool:
        # These columns never change once a signal is recorded: the rows held back and the
        # table can be asked apart, and the signal just recorded is not written twice.
        if (alert_key, status, occurred_at) in self._held_signals.occurrences:
            return True
        if alert_key in self._fresh_alerts and self._alerts is not None:
            # What the query would answer: no occurrence, none unattached, no alert row.
            self._held_signals.none_unattached.add(alert_key)
            self._alerts.setdefault(alert_key, None)
            return False
        found = self.conn.execute(
            projection_rows.SIGNAL_AND_ALERT,
            (alert_key, status, iso(occurred_at), alert_key, alert_key),
        ).fetchone()
        if self._alerts is not None:  # a transaction's: what the fold asks next, remembered
            if not found[1]:
                self._held_signals.none_unattached.add(alert_key)
            if alert_key not in self._alerts:  # else the cached one, newer than its row
                self._alerts[alert_key] = projection_rows.alert_state(found[2:])
        return bool(found[0])

    def active_incident_for_service(self, service: str, opened_since: datetime) -> Incident | None:
        """The latest to start (by the senders' clock, as ``opened_since`` is: see
        :attr:`Incident.signal_time`); of two that started together, the first opened (as the
        replay's tables answer)."""
        since = iso(opened_since)
        if self._active is None or self._incidents is None:
            row = self.conn.execute(
                "SELECT id, data FROM incidents WHERE service = ? AND state != 'resolved'"
                " AND signal_started_at >= ? ORDER BY signal_started_at DESC, number LIMIT 1",
                (service, since),
            ).fetchone()
            return Incident.model_validate_json(row[1]) if row else None
        # Performance: asked for every signal folded, with the answer most often unchanged;
        # the transaction's own writes keep what was read up to date (see ActiveForService).
        active = self._active.get(service)
        if active is None or since < active.since:
            rows = self.conn.execute(_ACTIVE_FOR_SERVICE, (service, since)).fetchall()
            active = ActiveForService(since, {i: (at, number) for i, at, number in rows})
            for incident in self._incidents.values():
                active.saw(incident, service)
            self._active[service] = active
        found = active.latest(since, self._incidents)
        return None if found is None else self.get_incident(found)

    def firing_alert_count(self, incident_id: str) -> int:
        self._held_alerts.flush()
        row = self.conn.execute(
            "SELECT count(*) FROM alerts WHERE incident_id = ? AND status != 'resolved'",
            (incident_id,),
        ).fetchone()
        return int(row[0])

    def unattached_signal_ids(self, alert_key: str) -> list[int]:
        # A row held back is newer than its stored version (it may have been attached since).
        rows_held = self._held_signals.rows
        held = {i: rows_held[i] for i in self._held_signals.ids_by_alert.get(alert_key, ())}
        if alert_key in self._held_signals.none_unattached:
            return sorted(i for i, stored in held.items() if stored.incident_id is None)
        rows = self.conn.execute(
            # By the alert's index (the unary + keeps SQLite off the incident one): the signals
            # of one alert are a few, the unattached ones of the store are every change and
            # notice ever recorded, and scanning those took milliseconds per alert opened.
            "SELECT id FROM signals WHERE alert_key = ? AND +incident_id IS NULL",
            (alert_key,),
        ).fetchall()
        ids = {int(r[0]) for r in rows if int(r[0]) not in held}
        ids.update(i for i, stored in held.items() if stored.incident_id is None)
        return sorted(ids)

    def changes_for_service(
        self, service: str, since: datetime, until: datetime
    ) -> list[StoredSignal]:
        self._flush_changes()
        rows = self.conn.execute(
            f"SELECT data FROM signals WHERE service = ? AND {SIGNAL_CHANGE_INDEXED}"
            " AND occurred_at BETWEEN ? AND ? ORDER BY occurred_at, id",
            (service, iso(since), iso(until)),
        ).fetchall()
        return [StoredSignal.model_validate_json(r[0]) for r in rows]

    def incidents_near_change(
        self, service: str, at: datetime, window: timedelta
    ) -> list[Incident]:
        self._held_incidents.flush()
        rows = self.conn.execute(
            "SELECT data FROM incidents WHERE service = ? AND ("
            " (signal_started_at BETWEEN ? AND ?)"
            " OR (state != 'resolved' AND signal_started_at < ?))"
            " ORDER BY number",
            (service, iso(at), iso(at + window), iso(at)),
        ).fetchall()
        return [Incident.model_validate_json(r[0]) for r in rows]

    def next_incident_number(self) -> int:
        self._held_incidents.flush()
        row = self.conn.execute("SELECT coalesce(max(number), 0) + 1 FROM incidents").fetchone()
        return int(row[0])

    # --- PushLookup ---------------------------------------------------------------------

    def open_sessions(self) -> list[AgentSession]:
        rows = self.conn.execute(
            "SELECT data FROM sessions WHERE ended_at IS NULL ORDER BY id"
        ).fetchall()
        return [AgentSession.model_validate_json(r[0]) for r in rows]

    def pushes_for_incident(
        self, incident_id: str, session_ids: Collection[str] | None = None
    ) -> list[Push]:
        if session_ids is None:
            rows = self.conn.execute(
                "SELECT number, data FROM pushes WHERE incident_id = ?", (incident_id,)
            ).fetchall()
        else:
            rows = projection_rows.pushes_of_sessions(self.conn, incident_id, list(session_ids))
        return [Push.model_validate_json(data) for _, data in sorted(rows, key=lambda row: row[0])]

    def has_pushes(self, incident_id: str) -> bool:
        row = self.conn.execute(
            "SELECT EXISTS (SELECT 1 FROM pushes WHERE incident_id = ?)", (incident_id,)
        ).fetchone()
        return bool(row[0])

    def pending_pushes_for_session(self, session_id: str) -> list[Push]:
        rows = self.conn.execute(
            "SELECT data FROM pushes WHERE session_id = ? AND state = 'pending' ORDER BY number",
            (session_id,),
        ).fetchall()
        return [Push.model_validate_json(r[0]) for r in rows]

    def next_push_number(self) -> int:
        return int(
            self.conn.execute("SELECT coalesce(max(number), 0) + 1 FROM pushes").fetchone()[0]
        )

    def next_note_number(self) -> int:
        return int(
            self.conn.execute("SELECT coalesce(max(number), 0) + 1 FROM notes").fetchone()[0]
        )

    def approved_count_since(self, session_id: str, since: datetime) -> int:
        rows = self.conn.execute(
            "SELECT data FROM pushes WHERE session_id = ? AND proposed_at >= ?",
            (session_id, iso(since)),
        ).fetchall()
        pushes = [Push.model_validate_json(r[0]) for r in rows]
        return sum(
            1
            for p in pushes
            if p.decided_at is not None and p.decided_at >= since and p.reject_reason is None
        )

    def suspect_changes(self, incident_id: str) -> list[StoredSignal]:
        # Performance: asked after every delivery folded (to reconcile pushes); only a change
        # link or a change signal written in this transaction can change the answer.
        if self._suspects is not None and incident_id in self._suspects:
            return self._suspects[incident_id]
        self._flush_changes()
        rows = self.conn.execute(
            "SELECT s.data FROM change_links l JOIN signals s ON s.id = l.signal_id"
            " WHERE l.incident_id = ? AND l.relation = 'suspect' ORDER BY s.occurred_at, s.id",
            (incident_id,),
        ).fetchall()
        suspects = [StoredSignal.model_validate_json(r[0]) for r in rows]
        if self._suspects is not None:
            self._suspects[incident_id] = suspects
        return suspects
