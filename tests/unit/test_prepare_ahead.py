"""Batches prepared a batch ahead by a forked child: the same batches, errors where they were.

Real forks, real pipes, the real store; the deliveries are PagerDuty Webhooks v3 bodies shaped
as PagerDuty's docs show them (https://developer.pagerduty.com/docs/webhooks-overview), one per
NDJSON line as ``oncall-tui ingest --ndjson`` reads them.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.config import ExportSettings, Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest import prepare_ahead
from oncall_tui.ingest.batch import (
    BatchStoppedError,
    LocalDelivery,
    ingest_in_batches,
    ndjson_deliveries,
)
from oncall_tui.ingest.prepare_ahead import PreparingStoppedError, prepared_batches
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from tests.support.postgres import StoreOpener
from tests.unit.test_cli_ingest_batch import pagerduty_body

CLOCK = FixedClock(datetime(2026, 3, 1, 12, 0, tzinfo=UTC))


@pytest.fixture
def ingestor(tmp_path: Path) -> Iterator[Ingestor]:
    db = tmp_path / "ahead.db"
    store = Store.open(db, CLOCK)
    try:
        yield Ingestor(store, Settings(db=db, export=ExportSettings(dir=tmp_path / "context")))
    finally:
        store.close()


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The children forked (their pids), by way of the real ``os.fork``."""
    made: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            made.append(pid)
        return pid

    monkeypatch.setattr(prepare_ahead.os, "fork", fork)
    return made


def _lines(count: int, bad: int | None = None) -> list[LocalDelivery]:
    bodies = [b"{not json" if i == bad else pagerduty_body(i) for i in range(count)]
    return list(ndjson_deliveries(io.BytesIO(b"\n".join(bodies)), {}))


def test_the_child_prepares_what_this_process_would(ingestor: Ingestor, forks: list[int]) -> None:
    deliveries = _lines(7, bad=4)
    with prepared_batches(ingestor, "pagerduty", deliveries, 3) as batches:
        received = list(batches)
    assert len(forks) == 1
    assert [[d.line for d in batch] for batch, _ in received] == [[1, 2, 3], [4, 5, 6], [7]]
    here = [ingestor.prepare("pagerduty", d.body, d.headers, verify="none") for d in deliveries]
    assert [p for _, prepared in received for p in prepared] == [p.spelled_ahead() for p in here]
    assert here[4].refusal is not None and here[4].refusal.http_status == 400
    sent = [p for _, prepared in received for p in prepared]
    assert [p.spelled is not None for p in sent] == [True] * 4 + [False] + [True] * 2
    assert [p.signal_count for p in sent] == [p.signal_count for p in here] == [1] * 4 + [0, 1, 1]


def _rows(store: Store) -> dict[str, list[tuple[object, ...]]]:
    """The journal and the projection's tables, row by row."""
    queries = {
        "journal": "SELECT seq, ts, actor, kind, body FROM journal ORDER BY seq",
        "signals": "SELECT * FROM signals ORDER BY id",
        "alerts": "SELECT * FROM alerts ORDER BY alert_key",
        "incidents": "SELECT * FROM incidents ORDER BY id",
        "deliveries": "SELECT id, delivery_key, status, signal_count FROM deliveries ORDER BY id",
    }
    return {table: store.conn.execute(sql).fetchall() for table, sql in queries.items()}


def _pagerduty_body(index: int, *, title: str | None = None, incident: str | None = None) -> bytes:
    payload = json.loads(pagerduty_body(index))
    data = payload["event"]["data"]
    data["title"] = title or data["title"]
    data["id"] = incident or data["id"]
    return json.dumps(payload, ensure_ascii=False).encode()


def test_signals_spelled_by_the_child_write_what_one_at_a_time_does(
    ingestor: Ingestor, forks: list[int], tmp_path: Path
) -> None:
    """The child sends the signals as their journal text, the delivery's id left out: the
    journal and the tables are those of the deliveries ingested one by one, byte for byte.
    Among them, an incident id that spells the place of that id (escaped in the text), and a
    title the journal's encoder spells (not ASCII: sent as a signal)."""
    bodies = [_pagerduty_body(i) for i in range(5)]
    bodies[1] = _pagerduty_body(1, incident='Q"x\\,"delivery_id":null,"y')
    bodies[3] = _pagerduty_body(3, title='ação "quoted" \\ path')
    deliveries = list(ndjson_deliveries(io.BytesIO(b"\n".join(bodies)), {}))
    prepared = [ingestor.prepare("pagerduty", body, {}, verify="none") for body in bodies]
    sent = [p.spelled_ahead().spelled is not None for p in prepared]
    assert sent == [True, True, True, False, True]
    summary = ingest_in_batches(ingestor, "pagerduty", deliveries, batch_size=2)
    assert (len(forks), summary.accepted) == (1, 5)
    one_by_one = Store.open(tmp_path / "one.db", CLOCK)
    try:
        alone = Ingestor(one_by_one, ingestor.settings)
        for body in bodies:
            assert alone.ingest("pagerduty", body, {}, verify="none").status == "accepted"
        assert _rows(ingestor.store) == _rows(one_by_one)
    finally:
        one_by_one.close()
    stored = ingestor.store.tables()
    tricky = stored.get_alert('pagerduty:Q"x\\,"delivery_id":null,"y')
    assert tricky is not None and tricky.incident_id == "INC-1"
    rows = ingestor.store.conn.execute("SELECT delivery_id, data FROM signals ORDER BY id")
    assert [json.loads(data)["signal"]["delivery_id"] for _, data in rows] == [1, 2, 3, 4, 5]
    recorded = ingestor.store.conn.execute(
        "SELECT body FROM journal WHERE kind = 'signal.recorded' ORDER BY seq"
    ).fetchall()
    assert "a\\u00e7\\u00e3o" in recorded[3][0]


def test_a_childs_batches_start_small_and_grow_to_the_batch_size(
    ingestor: Ingestor, forks: list[int]
) -> None:
    """The fold waits only for the first batch: it is small, and the next ones grow by half."""
    deliveries = _lines(400)
    with prepared_batches(ingestor, "pagerduty", deliveries, 200) as batches:
        received = [batch for batch, _ in batches]
    assert len(forks) == 1
    assert [len(batch) for batch in received] == [50, 75, 112, 163]
    assert [d.line for batch in received for d in batch] == [d.line for d in deliveries]


def test_one_batch_or_other_threads_are_prepared_here(ingestor: Ingestor, forks: list[int]) -> None:
    with prepared_batches(ingestor, "pagerduty", _lines(3), 3) as batches:
        assert [len(batch) for batch, _ in batches] == [3]
    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        with prepared_batches(ingestor, "pagerduty", _lines(5), 2) as batches:
            assert [len(batch) for batch, _ in batches] == [2, 2, 1]
    finally:
        stop.set()
        other.join()
    assert forks == []


def test_an_error_reading_the_input_is_raised_here_after_the_batches_before(
    ingestor: Ingestor,
) -> None:
    def unreadable_after(count: int) -> Iterator[LocalDelivery]:
        yield from _lines(count)
        raise OSError(5, "Input/output error", "events.ndjson")

    got: list[int] = []
    with (
        pytest.raises(OSError, match="Input/output error") as raised,
        prepared_batches(ingestor, "pagerduty", unreadable_after(5), 2) as batches,
    ):
        for batch, _ in batches:
            got.append(len(batch))
    assert got == [2, 2]  # the fifth was read, but its batch never completed
    assert raised.value.filename == "events.ndjson"


def test_an_error_that_cannot_be_pickled_still_says_what_it_was(ingestor: Ingestor) -> None:
    class Odd(Exception):
        def __init__(self, lock: object) -> None:
            super().__init__("odd input")
            self.lock = lock

    def odd_after(count: int) -> Iterator[LocalDelivery]:
        yield from _lines(count)
        raise Odd(threading.Lock())

    with (
        pytest.raises(PreparingStoppedError, match="Odd: odd input"),
        prepared_batches(ingestor, "pagerduty", odd_after(3), 2) as batches,
    ):
        list(batches)


def _killed_at(count: int, at: int, how: signal.Signals) -> Iterator[LocalDelivery]:
    """Deliveries whose reading, in the child that reads them, signals it at ``at``."""
    for index, delivery in enumerate(_lines(count)):
        if index == at:
            os.kill(os.getpid(), how)
        yield delivery


def test_a_killed_child_stops_the_batches_as_a_failed_store_does(ingestor: Ingestor) -> None:
    with pytest.raises(BatchStoppedError) as stopped:
        ingest_in_batches(ingestor, "pagerduty", _killed_at(9, 5, signal.SIGKILL), batch_size=2)
    committed = ingestor.store.conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
    assert (stopped.value.summary.total, committed) == (4, 4)
    assert stopped.value.stopped_at == "the delivery after line 4"
    assert "killed by signal 9" in str(stopped.value)


def test_ctrl_c_is_the_parents_to_decide(ingestor: Ingestor) -> None:
    """The terminal sends SIGINT to the whole group: the child carries on (the parent, if it
    stops, closes the pipe)."""
    summary = ingest_in_batches(
        ingestor, "pagerduty", _killed_at(9, 5, signal.SIGINT), batch_size=2
    )
    assert summary.accepted == 9


def test_a_parent_that_stops_reading_stops_the_child(ingestor: Ingestor) -> None:
    """A child waiting on its input (a slow pipe) is stopped, not waited for."""
    read_end, write_end = os.pipe()

    def then_a_silent_pipe() -> Iterator[LocalDelivery]:
        yield from _lines(3)
        os.read(read_end, 1)  # nothing ever comes
        yield from _lines(1)

    started = time.monotonic()
    try:
        with prepared_batches(ingestor, "pagerduty", then_a_silent_pipe(), 2) as batches:
            first, _ = next(batches)
    finally:
        os.close(read_end)
        os.close(write_end)
    assert len(first) == 2
    assert time.monotonic() - started < 10


def test_batches_prepared_ahead_fold_as_ever_on_either_store(
    open_store: StoreOpener, forks: list[int], tmp_path: Path
) -> None:
    """The child inherits the store's connection (a file, or a socket to PostgreSQL) and
    leaves it alone: the parent's transactions go on over it, and it outlives the child."""
    store = open_store(CLOCK)
    ingestor = Ingestor(store, Settings(db=tmp_path / "x.db"))
    summary = ingest_in_batches(ingestor, "pagerduty", _lines(9, bad=6), batch_size=2)
    assert (len(forks), summary.accepted, summary.rejected) == (1, 8, 1)
    assert [r.delivery.line for r in summary.rejections] == [7]
    counts = store.conn.execute("SELECT status, count(*) FROM deliveries GROUP BY status")
    assert sorted(counts.fetchall()) == [("accepted", 8), ("rejected", 1)]
    incident = store.tables().get_incident("INC-1")
    assert incident is not None and incident.signal_count == 8


def test_a_child_killed_in_the_middle_of_a_batch_is_told_apart_from_a_bad_message(
    ingestor: Ingestor, forks: list[int]
) -> None:
    """A batch bigger than the pipe holds: the child is blocked half-way through writing it
    (nothing reads yet) when it is killed, and the parent finds a message cut short."""
    with prepared_batches(ingestor, "pagerduty", _lines(120), 60) as batches:
        time.sleep(0.5)
        os.kill(forks[0], signal.SIGKILL)
        with pytest.raises(PreparingStoppedError, match="killed by signal 9"):
            next(batches)
