"""Deliveries stored a batch in one statement (:func:`oncall_tui.store.deliveries.insert_many`),
as :func:`~oncall_tui.store.deliveries.insert` stores them one by one, on SQLite and PostgreSQL:
the same rows, a retry told apart whether it repeats a stored delivery or one earlier in the
same batch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from oncall_tui.core.clock import FixedClock
from oncall_tui.store import deliveries
from oncall_tui.store.deliveries import NewDelivery
from tests.support.postgres import StoreOpener

NOW = datetime(2026, 12, 4, 21, 0, tzinfo=UTC)
HEADERS = {"Content-Type": "application/json", "X-PagerDuty-Signature": "v1=abc"}


def row(key: str, second: int = 0, status: str = "received", signals: int = 0) -> NewDelivery:
    body = f'{{"k":"{key}"}}'.encode()
    at, headers = NOW + timedelta(seconds=second), deliveries.stored_headers(HEADERS)
    return ("pagerduty", key, at, headers, body, status, signals)


def test_a_batch_is_stored_as_one_by_one_would_store_it(open_store: StoreOpener) -> None:
    # Received by the receiver (folded later), or accepted with the count the fold will record.
    batch = [row("d-0"), row("d-1", 1, "accepted", 1), row("d-2", 2), row("d-3", 3, "accepted", 3)]
    batch.append(row("d-4", 4, "accepted", 0))
    alone, together = open_store(FixedClock(NOW)), open_store(FixedClock(NOW))
    with alone.write() as writer:
        one_by_one = [
            deliveries.insert(
                writer.conn,
                source=source,
                delivery_key=key,
                received_at=at,
                headers=HEADERS,
                body=body,
                status=status,
                http_status=202,
                reason=None,
                signal_count=signal_count,
            )
            for source, key, at, _stored_headers, body, status, signal_count in batch
        ]
    with together.write() as writer:
        ids = deliveries.insert_many(writer.conn, batch)
    assert ids == one_by_one == [1, 2, 3, 4, 5]
    for delivery_id in range(1, 6):
        stored, expected = (
            deliveries.get(together.conn, delivery_id),
            deliveries.get(alone.conn, delivery_id),
        )
        assert stored == expected
        assert stored is not None and stored.attempts == 1
        assert (stored.status, stored.signal_count) == batch[delivery_id - 1][5:]
        assert stored.headers["X-PagerDuty-Signature"] == deliveries.REDACTED


def test_a_delivery_stored_before_or_earlier_in_the_batch_gets_no_id(
    open_store: StoreOpener,
) -> None:
    store = open_store(FixedClock(NOW))
    with store.write() as writer:
        assert deliveries.insert_many(writer.conn, [row("a")]) == [1]
    with store.write() as writer:
        ids = deliveries.insert_many(writer.conn, [row("b"), row("a", 1), row("c"), row("b", 2)])
    stored = dict(store.conn.execute("SELECT delivery_key, id FROM deliveries").fetchall())
    assert set(stored) == {"a", "b", "c"}
    # (PostgreSQL's sequence also spends a number on each row its conflict skips.)
    assert ids == [stored["b"], None, stored["c"], None]
    (attempts,) = store.conn.execute(
        "SELECT attempts FROM deliveries WHERE delivery_key = 'a'"
    ).fetchone()
    assert attempts == 1  # counting the retry is the caller's (Ingestor._duplicate)


def test_a_batch_longer_than_one_statement(open_store: StoreOpener) -> None:
    count = deliveries.ROWS_PER_STATEMENT * 2 + 7
    store = open_store(FixedClock(NOW))
    with store.write() as writer:
        ids = deliveries.insert_many(writer.conn, [row(f"d-{n}") for n in range(count)])
    assert ids == list(range(1, count + 1))
    (stored,) = store.conn.execute("SELECT count(*) FROM deliveries").fetchone()
    assert stored == count
