"""The SQLite store: pragmas, permissions, migrations, and the journal/projection contract."""

from __future__ import annotations

import gc
import sqlite3
import stat
import weakref
from contextlib import nullcontext
from pathlib import Path
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from oncall_tui.core import incidents, projection
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.incidents import GroupingRules
from oncall_tui.core.journal import NoteAccepted
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import Severity, SignalKind, SignalStatus
from oncall_tui.store import deliveries, projection_rows
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import dump_projection
from oncall_tui.store.schema import (
    DELIVERY_STATUS_INDEXED,
    JOURNAL_KIND_INDEXED,
    MIGRATIONS,
    SCHEMA_VERSION,
    SIGNAL_CHANGE_INDEXED,
    SchemaTooNewError,
)
from oncall_tui.store.tables import SqlTables
from tests.factories import T0, MemoryJournal, make_signal
from tests.support.postgres import StoreOpener
from tests.support.samples import SAMPLES


def test_new_db_is_wal_private_and_current(tmp_path: Path) -> None:
    path = tmp_path / "oncall.db"
    store = Store.open(path)
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_older_db_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    sqlite3.connect(path).close()  # version 0: an empty file from before the first schema
    store = Store.open(path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.max_seq() == 0


def test_the_agent_side_tables_are_those_sqlite_utils_made(tmp_path: Path) -> None:
    """Migration 2 once created its tables through sqlite-utils; its SQL now creates the same
    schema, to the text, so a DB made today is one made then."""
    import sqlite_utils

    made_then = sqlite_utils.Database(sqlite3.connect(tmp_path / "then.db"))
    made_then.table("catalog").create({"name": str, "data": str}, pk="name", not_null={"data"})
    sessions = {"id": str, "repo": str, "last_seen": str, "ended_at": str, "data": str}
    made_then.table("sessions").create(sessions, pk="id", not_null={"last_seen", "data"})
    made_then.table("sessions").create_index(["last_seen"], index_name="sessions_seen")
    pushes = {"id": str, "number": int, "incident_id": str, "session_id": str, "state": str}
    pushes |= {"kind": str, "proposed_at": str, "data": str}
    required = {"number", "incident_id", "state", "kind", "proposed_at", "data"}
    made_then.table("pushes").create(pushes, pk="id", not_null=required)
    made_then.table("pushes").create_index(["number"], index_name="pushes_number", unique=True)
    made_then.table("pushes").create_index(["state", "number"], index_name="pushes_state")
    by_incident = ["incident_id", "session_id", "number"]
    made_then.table("pushes").create_index(by_incident, index_name="pushes_incident")
    made_then.table("pushes").create_index(["session_id", "number"], index_name="pushes_session")
    notes = {"id": str, "number": int, "service": str, "incident_id": str, "data": str}
    made_then.table("notes").create(notes, pk="id", not_null={"number", "data"})
    made_then.table("notes").create_index(["number"], index_name="notes_number", unique=True)
    made_then.table("notes").create_index(["service"], index_name="notes_service")
    made_then.table("meta").create({"key": str, "value": str}, pk="key", not_null={"value"})
    query = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE tbl_name IN (?, ?, ?, ?, ?)"
    tables = ("catalog", "sessions", "pushes", "notes", "meta")
    expected = sorted(made_then.conn.execute(query, tables).fetchall())
    made_now = Store.open(tmp_path / "now.db")
    assert sorted(made_now.conn.execute(query, tables).fetchall()) == expected


def test_newer_db_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(SchemaTooNewError, match="newer oncall-tui"):
        Store.open(path)


def test_failed_write_leaves_nothing(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db")
    with pytest.raises(RuntimeError), store.write() as writer:
        writer.append(NoteAccepted("N-1", "test"), "test")
        raise RuntimeError("boom")
    assert store.max_seq() == 0


def test_a_write_transactions_tables_go_with_it_without_the_collector(tmp_path: Path) -> None:
    """A batch's cache of thousands of models is freed when its transaction ends: no reference
    cycle holds the tables (a held row's writer once was their bound method), so the garbage
    collector has neither to find them nor to look over them while they live."""
    store = Store.open(tmp_path / "db")
    rules = incidents.GroupingRules()
    gc.disable()
    try:
        with store.write() as writer:
            for minute in range(3):
                signal = make_signal("a1", minute=minute, service="payment-processor")
                incidents.record_signal(signal, writer.append, writer.tables, rules)
            tables = weakref.ref(writer.tables)
        del writer
        assert tables() is None
    finally:
        gc.enable()
    assert store.conn.execute("SELECT count(*) FROM signals").fetchone()[0] == 3


def _record_all_sql(store: Store, signals: list) -> None:  # type: ignore[type-arg]
    rules = incidents.GroupingRules()
    for signal in signals:
        with store.write() as writer:
            incidents.record_signal(signal, writer.append, writer.tables, rules)


def _fold_into_fresh_sql(
    store: Store, fresh: Store | None = None
) -> dict[str, list[tuple[object, ...]]]:
    fresh = fresh or Store.open(":memory:")
    with fresh.write() as writer:
        projection.fold(store.entries(), SqlTables(writer.conn))
    return dump_projection(fresh.conn)


statuses = st.sampled_from([SignalStatus.FIRING, SignalStatus.ACKNOWLEDGED, SignalStatus.RESOLVED])
alert_signals = st.builds(
    make_signal,
    st.sampled_from(["a1", "a2", "a3", "pd:1"]),
    status=statuses,
    minute=st.integers(0, 120),
    service=st.sampled_from(["payment-processor", "checkout", None]),
    severity=st.sampled_from(list(Severity)),
)
change_signals = st.builds(
    make_signal,
    st.sampled_from(["deploy-1", "deploy-2"]),
    status=st.just(SignalStatus.SUCCESS),
    minute=st.integers(-90, 120),
    service=st.sampled_from(["payment-processor", "checkout"]),
    kind=st.sampled_from([SignalKind.DEPLOY, SignalKind.ROLLBACK]),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(signals=st.lists(st.one_of(alert_signals, change_signals), max_size=25))
def test_fold_from_scratch_equals_live_projection(open_store: StoreOpener, signals: list) -> None:  # type: ignore[type-arg]
    store = open_store(FixedClock(T0))
    _record_all_sql(store, signals)
    live = dump_projection(store.conn)
    assert _fold_into_fresh_sql(store, open_store()) == live

    # All in one transaction, where the projection holds rows back until a query needs them
    # (or until it holds too many: a small bound here, to write some out midway), incident
    # rows too when the fold asks it to.
    bounds = (
        (projection_rows.MAX_HELD_ROWS, False),
        (projection_rows.MAX_HELD_ROWS, True),
        (3, True),
    )
    for held, hold_incidents in bounds:
        batched = open_store(FixedClock(T0))
        with patch.object(projection_rows, "MAX_HELD_ROWS", held), batched.write() as writer:
            holding = writer.tables.holding_incidents() if hold_incidents else nullcontext()
            with holding:
                for signal in signals:
                    incidents.record_signal(signal, writer.append, writer.tables, GroupingRules())
        assert dump_projection(batched.conn) == live

    # The in-memory path (replay) takes the very same decisions as the store's.
    memory = MemoryJournal()
    for signal in signals:
        memory.record(signal)
    sql_entries = [(e.kind, e.body) for e in store.entries()]
    assert [(e.kind, e.body) for e in memory.entries] == sql_entries
    folded = projection.fold(store.entries(), MemoryTables())
    assert isinstance(folded, MemoryTables)
    assert folded.incidents == memory.tables.incidents
    assert folded.incidents == {i: SqlTables(store.conn).get_incident(i) for i in folded.incidents}


def test_a_delivery_failing_midway_leaves_the_rest_of_its_batch_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each delivery of a batch folds inside its own savepoint; the rows the projection holds
    back (signals, alerts) of the deliveries before it must survive its rollback."""
    from oncall_tui.config import Settings
    from oncall_tui.ingest.record import Ingestor

    good = (SAMPLES / "alertmanager" / "firing.json").read_bytes()
    failing = good.replace(b"2ee254fac5aceac5", b"1111111111111111").replace(
        b"b113d4b78729a946", b"2222222222222222"
    )
    record = incidents.record_signal

    def record_or_fail(signal, *args):  # type: ignore[no-untyped-def]
        if "2222222222222222" in signal.alert_key:  # the failing delivery's second alert
            raise RuntimeError("a bug in the fold")
        return record(signal, *args)

    monkeypatch.setattr(incidents, "record_signal", record_or_fail)
    store = Store.open(tmp_path / "db", FixedClock(T0))
    ingestor = Ingestor(store, Settings(db=tmp_path / "db"))
    prepared = [ingestor.prepare("alertmanager", body, {}) for body in (good, failing)]
    accepted, rejected = ingestor.ingest_many(prepared)

    assert (accepted.status, rejected.status, rejected.http_status) == ("accepted", "rejected", 400)
    assert "a bug in the fold" in str(rejected.reason)
    alerts = {r[0] for r in store.conn.execute("SELECT alert_key FROM alerts")}
    assert alerts == {s.alert_key for s in prepared[0].signals}
    delivery_ids = [r[0] for r in store.conn.execute("SELECT delivery_id FROM signals")]
    assert delivery_ids == [accepted.delivery_id] * 2
    assert _fold_into_fresh_sql(store) == dump_projection(store.conn)


def test_the_rows_nothing_looks_up_stay_out_of_the_indexes(tmp_path: Path) -> None:
    """A DB of the version before gets the partial indexes and loses the unread one, and its
    rows are still found by kind and status: the journal's index holds none of the three kinds
    written per delivery, the index of changes no alert's signal, the index by status no
    accepted delivery; and each query by them is served by its index."""
    path = tmp_path / "older.db"
    conn = sqlite3.connect(path, isolation_level=None)
    for step in MIGRATIONS[:-1]:  # a step short of today's version
        step(conn)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) - 1}")
    conn.close()
    store = Store.open(path, FixedClock(T0))
    with store.write() as writer:
        writer.append(NoteAccepted("N-1", "user:alice"), actor="user:alice")
        rules = GroupingRules()
        for signal in (
            make_signal(),
            make_signal(kind=SignalKind.DEPLOY, status=SignalStatus.SUCCESS),
        ):
            incidents.record_signal(signal, writer.append, writer.tables, rules)
    conn = store.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index'"))
    assert "journal_ts" not in indexes
    assert indexes["journal_kind"].endswith(f"WHERE {JOURNAL_KIND_INDEXED}")
    assert indexes["signals_change"].endswith(f"WHERE {SIGNAL_CHANGE_INDEXED}")
    assert indexes["deliveries_status"].endswith(f"WHERE {DELIVERY_STATUS_INDEXED}")
    changes = {kind.value for kind in SignalKind if kind.is_change}
    assert f"({' OR '.join(f'kind = {k!r}' for k in sorted(changes))})" == SIGNAL_CHANGE_INDEXED
    in_index = "SELECT kind FROM journal INDEXED BY journal_kind WHERE {} ORDER BY seq"
    assert [k for (k,) in conn.execute(in_index.format(JOURNAL_KIND_INDEXED))] == [
        "note.accepted",
        "incident.opened",
        "change.linked",  # the deploy, to the incident on its service
    ]
    changes_indexed = "SELECT kind FROM signals INDEXED BY signals_change WHERE {}"
    assert [k for (k,) in conn.execute(changes_indexed.format(SIGNAL_CHANGE_INDEXED))] == ["deploy"]
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    SqlTables(conn).changes_for_service("payment-processor", T0, T0)
    deliveries.received_ids(conn, 10)
    deliveries.count_received(conn)
    deliveries.rejected_ids(conn)
    deliveries.count_rejected(conn)
    deliveries.listing(conn, rejected_only=True)
    conn.set_trace_callback(None)
    queries = [s for s in statements if "FROM signals" in s or "FROM deliveries" in s]
    assert len(queries) == 6
    for query in queries:
        plan = " ".join(str(step[3]) for step in conn.execute("EXPLAIN QUERY PLAN " + query))
        assert "signals_change" in plan or "deliveries_status" in plan, (query, plan)
    store.close()
