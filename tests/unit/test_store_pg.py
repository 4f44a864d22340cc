"""The store on PostgreSQL: one migration path, gap-free seq across connections, deliveries
stored once across receivers, and the translation of the store's SQLite statements.

The store's contract tests (the fold from scratch, replay) run on both backends through the
``open_store`` fixture; these are what PostgreSQL adds.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.journal import NoteAccepted
from oncall_tui.paths import is_postgres_url
from oncall_tui.store import deliveries
from oncall_tui.store import schema as sqlite_schema
from oncall_tui.store.db import StoreUnavailableError
from oncall_tui.store.journal import Store
from oncall_tui.store.pg.translate import (
    NOT_NULL_COLUMNS,
    PRIMARY_KEYS,
    UntranslatableError,
    translate,
)
from oncall_tui.store.queries import dump_projection
from oncall_tui.store.schema import SCHEMA_VERSION, SchemaTooNewError
from tests.factories import T0
from tests.support.samples import SAMPLES

NewUrl = Callable[[], str]


# --- translation (no server needed) ------------------------------------------------------


def test_parameters_are_numbered_in_the_order_they_are_written() -> None:
    # The parsed tree visits LIMIT before WHERE: numbering it would swap the two.
    translated = translate("SELECT seq FROM journal WHERE seq > ? ORDER BY seq LIMIT ?")
    assert translated.sql == 'SELECT "seq" FROM "journal" WHERE "seq" > $1 ORDER BY "seq" LIMIT $2'
    assert "$1" in translate("SELECT '?' FROM journal WHERE kind = ?").sql, "not in a string"


def test_insert_or_replace_updates_every_column_but_the_key() -> None:
    sql = translate(
        "INSERT OR REPLACE INTO change_links (incident_id, signal_id, relation) VALUES (?, ?, ?)"
    ).sql
    assert sql.endswith(
        'ON CONFLICT("incident_id", "signal_id") DO UPDATE SET "relation" = "excluded"."relation"'
    )
    with pytest.raises(UntranslatableError):
        translate("INSERT OR REPLACE INTO nowhere (a) VALUES (?)")


def test_a_delivery_insert_ignores_duplicates_and_returns_its_id() -> None:
    translated = translate("INSERT OR IGNORE INTO deliveries (source, body) VALUES (?, ?)")
    assert translated.sql.endswith('ON CONFLICT DO NOTHING RETURNING "id"')
    assert translated.returns_key


def test_sqlite_orderings_of_nulls_are_kept_where_a_column_can_be_null() -> None:
    sql = translate("SELECT data FROM sessions ORDER BY ended_at, id DESC").sql
    assert sql.endswith('ORDER BY "ended_at" NULLS FIRST, "id" DESC')
    upsert = translate(
        "INSERT INTO alerts (alert_key, status) VALUES (?, ?)"
        " ON CONFLICT(alert_key) DO UPDATE SET status = excluded.status"
    ).sql
    assert 'ON CONFLICT("alert_key") DO UPDATE' in upsert


def test_a_json_list_parameter_becomes_an_array() -> None:
    translated = translate(
        "SELECT data FROM deploy_ranges WHERE service = ? AND signal_id IN"
        " (SELECT value FROM json_each(?))"
    )
    assert translated.sql.endswith('"signal_id" = ANY($2)')
    assert translated.json_lists == {1}


def test_named_parameters_are_bound_by_name() -> None:
    translated = translate("SELECT 1 FROM pushes WHERE session_id = :s AND id > :n OR id = :s")
    assert translated.sql.endswith('"session_id" = $1 AND "id" > $2 OR "id" = $1')
    assert translated.names == ("s", "n")
    with pytest.raises(UntranslatableError):
        translate("SELECT 1 FROM pushes WHERE session_id = :s AND id = ?")


def test_json_values_take_the_type_of_where_they_stand() -> None:
    """SQLite's json_extract gives the JSON value's own type; PostgreSQL says which."""
    doc = 'CAST("data" AS JSONB)'
    selected = translate("SELECT json_extract(data, '$.a.b') FROM pushes").sql
    assert selected == f'SELECT {doc} #> \'{{"a","b"}}\' FROM "pushes"'
    compared = "SELECT 1 FROM pushes WHERE json_extract(data, '$.seq') > ?"
    assert f"{doc} #>> '{{\"seq\"}}' > $1" in translate(compared).sql, "text for a text"
    assert (
        f"CAST({doc} #>> '{{\"seq\"}}' AS DECIMAL) > $1" in translate(compared, frozenset({0})).sql
    )
    defaulted = translate("SELECT coalesce(json_extract(data, '$.version'), 1) FROM pushes").sql
    assert "COALESCE(CAST(" in defaulted
    tested = translate("SELECT 1 FROM pushes WHERE kind = ? AND json_extract(data, '$.notice')").sql
    assert "JSONB_TYPEOF(" in tested and "= CAST('true' AS JSONB)" in tested
    by_parameter = translate("SELECT json_extract(body, ?) FROM journal").sql
    assert 'JSONB_PATH_QUERY_FIRST(CAST("body" AS JSONB), CAST($1 AS jsonpath))' in by_parameter


def test_json_each_over_a_column_is_its_array_items() -> None:
    sql = translate(
        "SELECT 1 FROM pushes q, json_each(q.data, '$.delivered_via') v WHERE v.value = ?"
    ).sql
    assert 'JSONB_ARRAY_ELEMENTS_TEXT(CAST("q"."data" AS JSONB) #> \'{"delivered_via"}\')' in sql


def test_like_ignores_case_as_on_sqlite() -> None:
    sql = translate("SELECT 1 FROM incidents WHERE service LIKE ? ESCAPE '\\'").sql
    assert sql.endswith("\"service\" ILIKE $1 ESCAPE '\\'")


def test_only_postgresql_urls_choose_postgresql() -> None:
    assert is_postgres_url("postgresql://oncall@db/oncall")
    assert is_postgres_url("postgres://db/oncall")
    assert not is_postgres_url("/var/lib/oncall/postgresql.db")


def test_the_sqlite_store_loads_neither_psycopg_nor_the_translator(tmp_path: Any) -> None:
    code = (
        "import sys\n"
        "from oncall_tui.store.journal import Store\n"
        "from oncall_tui.core.journal import NoteAccepted\n"
        f"store = Store.open({str(tmp_path / 'db')!r})\n"
        "with store.write() as writer:\n"
        "    writer.append(NoteAccepted('N-1', 'test'), 'test')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('psycopg', 'sqlglot')\n"
        "      or m.startswith('oncall_tui.store.pg')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


# --- one migration path ------------------------------------------------------------------


def test_postgresql_migrates_through_the_same_versions() -> None:
    from oncall_tui.store.pg import schema as pg_schema

    assert len(pg_schema.MIGRATIONS) == len(sqlite_schema.MIGRATIONS) == SCHEMA_VERSION
    shared = [a is b for a, b in zip(pg_schema.MIGRATIONS, sqlite_schema.MIGRATIONS, strict=True)]
    assert shared.count(False) == len(pg_schema.OWN_STEPS)


def _sqlite_layout(conn: sqlite3.Connection) -> dict[str, Any]:
    tables = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'sqlite_sequence'"
        )
    ]
    return {
        "columns": {
            t: [r[1] for r in conn.execute(f"PRAGMA table_info({t})")] for t in sorted(tables)
        },
        "primary_keys": {
            t: tuple(
                r[1]
                for r in sorted(conn.execute(f"PRAGMA table_info({t})"), key=lambda r: r[5])
                if r[5]
            )
            for t in tables
        },
        "indexes": sorted(
            name
            for (name,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
            )
        ),
    }


def _pg_layout(conn: sqlite3.Connection) -> dict[str, Any]:
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = current_schema() AND table_name != 'oncall_schema_version'"
        " ORDER BY table_name, ordinal_position"
    ).fetchall()
    columns: dict[str, list[str]] = {}
    for table, column in rows:
        columns.setdefault(table, []).append(column)
    keys = conn.execute(
        "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc"
        " JOIN information_schema.key_column_usage kcu"
        " ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema"
        " WHERE tc.table_schema = current_schema() AND tc.constraint_type = 'PRIMARY KEY'"
        " ORDER BY tc.table_name, kcu.ordinal_position"
    ).fetchall()
    primary_keys: dict[str, tuple[str, ...]] = {}
    for table, column in keys:
        primary_keys[table] = (*primary_keys.get(table, ()), column)
    indexes = conn.execute(
        # Less those backing a PRIMARY KEY or UNIQUE constraint (SQLite's automatic ones).
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND indexname"
        " NOT IN (SELECT conname FROM pg_constraint"
        " WHERE connamespace = current_schema()::regnamespace)"
    ).fetchall()
    return {
        "columns": dict(sorted(columns.items())),
        "primary_keys": primary_keys,
        "indexes": sorted(name for (name,) in indexes),
    }


def test_both_backends_have_one_layout(pg_url: NewUrl) -> None:
    store = Store.open(pg_url())
    try:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        pg = _pg_layout(store.conn)
        not_null = store.conn.execute(
            "SELECT column_name, is_nullable FROM information_schema.columns"
            " WHERE table_schema = current_schema()"
        ).fetchall()
    finally:
        store.close()
    lite = Store.open(":memory:")
    assert pg == _sqlite_layout(lite.conn)
    assert pg["primary_keys"] == PRIMARY_KEYS, "the conflict targets of INSERT OR REPLACE"
    assert {c for c, nullable in not_null if nullable == "YES"}.isdisjoint(NOT_NULL_COLUMNS)


def test_reopening_migrates_nothing_and_a_newer_schema_is_refused(pg_url: NewUrl) -> None:
    url = pg_url()
    Store.open(url).close()
    again = Store.open(url)
    assert again.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    again.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    again.close()
    with pytest.raises(SchemaTooNewError, match="newer oncall-tui"):
        Store.open(url)


# --- the journal across connections ------------------------------------------------------


def _note(store: Store, number: int, actor: str) -> int:
    with store.write() as writer:
        return writer.append(NoteAccepted(f"N-{number}", actor), actor).seq


def test_seq_is_gap_free_and_in_commit_order_across_connections(pg_url: NewUrl) -> None:
    url = pg_url()
    first, second = Store.open(url), Store.open(url)
    events: list[str] = []
    first_holds = threading.Event()
    first_may_commit = threading.Event()

    def slow_writer() -> None:
        with first.write() as writer:
            writer.append(NoteAccepted("N-1", "first"), "first")
            first_holds.set()
            first_may_commit.wait(10)
            events.append("first commits")

    def second_writer() -> None:
        events.append("second begins")
        seq = _note(second, 2, "second")
        events.append(f"second committed seq {seq}")

    slow = threading.Thread(target=slow_writer)
    slow.start()
    assert first_holds.wait(10)
    waiting = threading.Thread(target=second_writer)
    waiting.start()
    waiting.join(0.5)
    assert waiting.is_alive(), "the second writer waits for the first's lock"
    first_may_commit.set()
    slow.join(10)
    waiting.join(10)
    assert events == ["second begins", "first commits", "second committed seq 2"]

    # Many writers at once: one seq per entry, none skipped, each transaction's together.
    def many(store: Store, name: str) -> None:
        for n in range(20):
            with store.write() as writer:
                for part in range(3):
                    writer.append(NoteAccepted(f"{name}-{n}-{part}", name), f"{name}:{n}")

    threads = [threading.Thread(target=many, args=(s, n)) for s, n in ((first, "a"), (second, "b"))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    entries = list(first.entries())
    assert [e.seq for e in entries] == list(range(1, 2 + 120 + 1))
    by_transaction: dict[str, list[int]] = {}
    for entry in entries[2:]:
        by_transaction.setdefault(entry.actor, []).append(entry.seq)
    assert all(seqs == list(range(seqs[0], seqs[0] + 3)) for seqs in by_transaction.values())
    first.close()
    second.close()


def test_a_rolled_back_write_leaves_no_gap(pg_url: NewUrl) -> None:
    store = Store.open(pg_url())
    with pytest.raises(RuntimeError), store.write() as writer:
        writer.append(NoteAccepted("N-1", "test"), "test")
        raise RuntimeError("boom")
    assert _note(store, 2, "test") == 1
    store.close()


def test_a_writer_that_cannot_get_the_lock_in_time_is_told_to_retry(pg_url: NewUrl) -> None:
    url = pg_url()
    holder, impatient = Store.open(url), Store.open(url, busy_timeout_ms=100)
    with holder.write() as writer:
        writer.append(NoteAccepted("N-1", "holder"), "holder")
        with pytest.raises(StoreUnavailableError):
            _note(impatient, 2, "impatient")
    assert not impatient.conn.in_transaction
    assert _note(impatient, 3, "impatient") == 2
    holder.close()
    impatient.close()


# --- deliveries stored once across receivers ---------------------------------------------


def test_two_stores_storing_one_delivery_keep_one_row(pg_url: NewUrl) -> None:
    url = pg_url()
    first, second = Store.open(url), Store.open(url)
    ids = []
    for store in (first, second):
        with store.write() as writer:
            ids.append(
                deliveries.insert(
                    writer.conn,
                    source="alertmanager",
                    delivery_key="k-1",
                    received_at=T0,
                    headers={"Content-Type": "application/json"},
                    body=b'{"a": 1}',
                    status="received",
                    http_status=202,
                    reason=None,
                )
            )
    assert ids[0] is not None and ids[1] is None
    stored = deliveries.get(second.conn, ids[0])
    assert stored is not None and stored.body == b'{"a": 1}'
    assert deliveries.max_id(first.conn) == ids[0]
    first.close()
    second.close()


def test_two_receivers_ingesting_one_delivery_store_it_once(pg_url: NewUrl) -> None:
    """Alertmanager's HA pair sends each alert to both: both answer 2xx, the alert is stored
    and folded once, and the projection is what one receiver alone would have made."""
    from oncall_tui.ingest.record import Ingestor

    body = (SAMPLES / "alertmanager" / "firing.json").read_bytes()
    url = pg_url()
    clock = FixedClock(T0)
    results = []
    for _ in range(2):
        store = Store.open(url, clock)
        ingestor = Ingestor(store, Settings(db=":memory:"))
        results.extend(ingestor.ingest_many([ingestor.prepare("alertmanager", body, {})]))
        clock.advance(timedelta(seconds=1).total_seconds())
        store.close()
    assert [r.status for r in results] == ["accepted", "duplicate"]
    assert all(200 <= r.http_status < 300 for r in results)

    alone = Store.open(pg_url(), FixedClock(T0))
    ingestor = Ingestor(alone, Settings(db=":memory:"))
    ingestor.ingest_many([ingestor.prepare("alertmanager", body, {})])
    shared = Store.open(url)
    assert dump_projection(shared.conn) == dump_projection(alone.conn)
    assert shared.conn.execute("SELECT count(*) FROM deliveries").fetchone()[0] == 1
    shared.close()
    alone.close()


_RECEIVER = """
import sys
from datetime import UTC, datetime
from oncall_tui.core.journal import NoteAccepted
from oncall_tui.store import deliveries
from oncall_tui.store.journal import Store

store = Store.open(sys.argv[1])
name = sys.argv[2]
for key in range(int(sys.argv[3])):
    with store.write() as writer:
        stored = deliveries.insert(
            writer.conn, source="alertmanager", delivery_key=f"k-{key}",
            received_at=datetime.now(UTC), headers={}, body=name.encode(), status="received",
            http_status=202, reason=None,
        )
        if stored is not None:
            writer.append(NoteAccepted(f"N-{key}", name), name)
store.close()
"""


def test_receivers_in_two_processes_store_each_delivery_once(pg_url: NewUrl) -> None:
    url = pg_url()
    Store.open(url).close()  # migrated once, before the race
    count = 40
    receivers = [
        subprocess.Popen([sys.executable, "-c", _RECEIVER, url, name, str(count)])
        for name in ("first", "second")
    ]
    assert [p.wait(120) for p in receivers] == [0, 0]
    store = Store.open(url)
    rows = store.conn.execute("SELECT delivery_key FROM deliveries ORDER BY id").fetchall()
    assert sorted(key for (key,) in rows) == sorted(f"k-{k}" for k in range(count))
    # Whoever stored a delivery journaled it, in the same transaction: one entry per delivery,
    # and the seq of the two processes' commits has no gap.
    entries = list(store.entries())
    assert [e.seq for e in entries] == list(range(1, count + 1))
    assert sorted(e.body["note_id"] for e in entries) == sorted(f"N-{k}" for k in range(count))
    store.close()


# --- fewer round trips, the same answers --------------------------------------------------


def _round_trips(store: Store, action: Callable[[], object]) -> int:
    """How many times ``action`` waited for the server: its ReadyForQuery messages, counted in
    libpq's own trace of the store's connection."""
    import tempfile

    from psycopg import pq

    pgconn = store.conn._conn.pgconn  # type: ignore[attr-defined]
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        try:
            action()
        finally:
            pgconn.untrace()
        trace.seek(0)
        return sum(1 for line in trace if "\tReadyForQuery" in line)


def _meta_rows(store: Store) -> dict[str, str]:
    return dict(store.conn.execute("SELECT key, value FROM meta").fetchall())


def test_writes_inside_a_transaction_travel_with_the_next_answer(pg_url: NewUrl) -> None:
    store = Store.open(pg_url())
    seen: list[object] = []

    def write() -> None:
        with store.write() as writer:
            for key in ("a", "b", "c"):
                writer.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (key, "1"))
            seen.append(writer.conn.execute("SELECT count(*) FROM meta").fetchone()[0])
            seen.append(writer.conn.execute("UPDATE meta SET value = '2' WHERE key = 'a'").rowcount)

    # BEGIN and the lock; the inserts with the count; the update, its row count asked; COMMIT.
    assert _round_trips(store, write) == 4
    assert seen == [3, 1]
    assert _meta_rows(store) == {"a": "2", "b": "1", "c": "1"}
    store.close()


def test_the_receivers_statements_wait_once_per_batch_and_fold(pg_url: NewUrl) -> None:
    """A regression guard on the round trips of the receiver's storm (each is a wait of its one
    writer): committing a batch of deliveries waits once for all their ids, folding them for
    each one's first question about its signal, and for a few statements per chunk and per
    transaction."""
    from oncall_tui.ingest.pending import FOLD_CHUNK, PendingFolds
    from oncall_tui.ingest.record import Ingestor

    store = Store.open(pg_url(), FixedClock(T0))
    ingestor = Ingestor(store, Settings(db=":memory:"))
    folds = PendingFolds(ingestor)
    counts = []
    for storm in range(2):  # the second: psycopg has prepared the statements it repeats
        prepared = [
            ingestor.prepare("alertmanager", _one_alert_group(storm * 100 + i), {})
            for i in range(2 * FOLD_CHUNK)
        ]
        results = ingestor.receive_many(prepared, durable=True)
        for one, result in zip(prepared, results, strict=True):
            assert result.status == "received"
            folds.remember(result.delivery_id, "alertmanager", one.signals, 0.0)
        counts.append(_round_trips(store, lambda: folds.fold_some(10.0, lambda: False)))
    receive = [ingestor.prepare("alertmanager", _one_alert_group(1000 + i), {}) for i in range(8)]
    receiving = _round_trips(store, lambda: ingestor.receive_many(receive, durable=True))
    # BEGIN and the lock, one insert for the eight, COMMIT (2026-12-04; an insert each before).
    assert receiving == 1 + 1 + 1
    # One per delivery (its first question about its signal), one per chunk (its incident) and
    # ten for the transaction: 28 here (2026-12-03), where each delivery took 6.9 before.
    assert counts[1] <= 2 * FOLD_CHUNK + 2 + 10, counts
    assert store.conn.execute("SELECT count(*) FROM signals").fetchone()[0] == 4 * FOLD_CHUNK
    store.close()


def _one_alert_group(index: int) -> bytes:
    """The Alertmanager sample with one alert of its own: a delivery of a storm."""
    import json

    group = json.loads((SAMPLES / "alertmanager" / "firing.json").read_bytes())
    alert = dict(group["alerts"][0], fingerprint=f"{index:016x}")
    alert["labels"] = dict(alert["labels"], instance=f"pod-{index}")
    group.update(alerts=[alert], groupKey=f'{{}}:{{alertname="x{index}"}}')
    return json.dumps(group).encode()


def test_a_storm_folded_on_postgresql_is_what_sqlite_folds(pg_url: NewUrl, tmp_path: Any) -> None:
    from oncall_tui.ingest.pending import FOLD_CHUNK, PendingFolds
    from oncall_tui.ingest.record import Ingestor

    bodies = [_one_alert_group(i) for i in range(3 * FOLD_CHUNK + 1)]
    projections = []
    for where in (tmp_path / "oncall.db", pg_url()):
        store = Store.open(where, FixedClock(T0))
        ingestor = Ingestor(store, Settings(db=":memory:"))
        folds = PendingFolds(ingestor)
        prepared = [ingestor.prepare("alertmanager", body, {}) for body in bodies]
        for one, result in zip(
            prepared, ingestor.receive_many(prepared, durable=True), strict=True
        ):
            assert result.delivery_id is not None
            folds.remember(result.delivery_id, "alertmanager", one.signals, 0.0)
        while folds.fold_some(10.0, lambda: False):
            pass
        statuses = store.conn.execute("SELECT DISTINCT status FROM deliveries").fetchall()
        assert statuses == [("accepted",)]
        projections.append(dump_projection(store.conn))
        store.close()
    assert projections[0] == projections[1]


def test_a_failed_write_fails_its_whole_transaction(open_store: Any) -> None:
    """On SQLite the statement raises; on PostgreSQL the write may travel with a later
    statement and raise there: either way before the commit, and nothing of it is kept."""
    store = open_store()
    with pytest.raises(StoreUnavailableError), store.write() as writer:
        writer.conn.execute("INSERT INTO meta (key, value) VALUES ('kept?', 'no')")
        writer.conn.execute("UPDATE meta SET value = NULL WHERE key = 'kept?'")
        writer.conn.execute("INSERT INTO meta (key, value) VALUES ('after', 'no')")
    assert not store.conn.in_transaction
    assert _meta_rows(store) == {}
    store.close()


def test_a_failure_inside_a_savepoint_is_raised_where_it_happens(open_store: Any) -> None:
    """What lets the fold roll one bad delivery back and keep the others."""
    store = open_store()
    with store.write() as writer:
        conn = writer.conn
        conn.execute("INSERT INTO meta (key, value) VALUES ('before', '1')")
        conn.execute("SAVEPOINT attempt")
        conn.execute("INSERT INTO meta (key, value) VALUES ('inside', '1')")
        with pytest.raises(sqlite3.IntegrityError):
            conn.execute("INSERT INTO meta (key, value) VALUES ('bad', NULL)")
        conn.execute("ROLLBACK TO attempt")
        conn.execute("RELEASE attempt")
        conn.execute("INSERT INTO meta (key, value) VALUES ('after', '1')")
    assert _meta_rows(store) == {"before": "1", "after": "1"}
    store.close()


def test_rows_inserted_together_are_those_inserted_one_by_one(open_store: Any) -> None:
    store = open_store()
    upsert = (
        "INSERT INTO meta (key, value) VALUES (?, ?)"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value"
    )
    with store.write() as writer:
        many = writer.conn.executemany(
            "INSERT INTO meta (key, value) VALUES (?, ?)", [(f"k{n:03d}", "1") for n in range(101)]
        )
        assert many.rowcount == 101
        # One key twice in one batch: applied in order, the last value wins.
        writer.conn.executemany(upsert, [("k000", "2"), ("k001", "2"), ("k000", "3")])
    rows = _meta_rows(store)
    assert len(rows) == 101
    assert (rows["k000"], rows["k001"], rows["k100"]) == ("3", "2", "1")
    store.close()


def test_what_the_fold_asks_of_an_alert_stays_true_after_its_own_writes(open_store: Any) -> None:
    """Asking whether a signal is recorded also reads its alert and whether that alert has
    unattached signals: answers the transaction's own writes must keep current."""
    from oncall_tui.core.models import AlertState, SignalStatus, StoredSignal
    from tests.factories import make_signal

    store = open_store(FixedClock(T0))
    resolve = make_signal("a1", status=SignalStatus.RESOLVED)
    with store.write() as writer:
        tables = writer.tables
        assert not tables.has_signal("a1", "firing", T0)
        assert tables.get_alert("a1") is None
        assert tables.unattached_signal_ids("a1") == []
        tables.put_signal(StoredSignal(id=5, signal=resolve))  # a resolve before its trigger
        tables.put_alert(AlertState(alert_key="a1", status=SignalStatus.RESOLVED, status_at=T0))
        assert tables.unattached_signal_ids("a1") == [5]
        tables.flush()  # now in the table, no longer held
        assert tables.unattached_signal_ids("a1") == [5]
        assert tables.has_signal("a1", "resolved", resolve.occurred_at)
        alert = tables.get_alert("a1")
        assert alert is not None and alert.status is SignalStatus.RESOLVED
    with store.write() as writer:  # a new transaction reads them from the tables
        assert writer.tables.has_signal("a1", "resolved", resolve.occurred_at)
        assert writer.tables.unattached_signal_ids("a1") == [5]
        assert writer.tables.get_alert("a1") == alert
    store.close()
