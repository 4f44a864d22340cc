"""Helpers shared by the fault-injection tests: disk full, stuck readers and writers, SIGKILLs.

The receiver answers 202 once the raw delivery is committed and may fold its signals into
incidents a moment later, so checks here hold either way: a 202'd delivery is in ``deliveries``
as ``received`` (waiting to be folded) or ``accepted`` (folded), and anything derived from it is
waited for with a deadline, never expected at once.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable
from contextlib import closing
from functools import cache
from pathlib import Path
from typing import Any, TypeVar

from oncall_tui.actions import Rules
from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.sessions import register
from oncall_tui.config import Settings
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from tests.support.receiver_http import Reply
from tests.support.samples import SAMPLES, sample

ACKNOWLEDGED = ("received", "accepted")
"""Statuses a delivery answered 202 may have: waiting to be folded, or folded."""

T = TypeVar("T")
PAGERDUTY_SAMPLE_EVENT_ID = b"01JDQ3V8K2N7P4R6T9W1Y3Z5B8"


@cache
def _pagerduty_sample() -> bytes:
    body = sample("pagerduty/triggered.json").read_bytes()
    assert body.count(PAGERDUTY_SAMPLE_EVENT_ID) == 1
    return body


def pagerduty_event(event_id: str) -> bytes:
    """The PagerDuty sample as an event of its own. PagerDuty deliveries are keyed by the
    signed ``event.id`` (:func:`pagerduty_key`), not by ``X-Webhook-Id``: a delivery meant to be
    distinct needs a body of its own."""
    return _pagerduty_sample().replace(PAGERDUTY_SAMPLE_EVENT_ID, event_id.encode("ascii"))


def pagerduty_key(event_id: str) -> str:
    """The ``delivery_key`` a body from :func:`pagerduty_event` is stored under."""
    return f"pagerduty:event:{event_id}"


def read_db(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """Query from a connection of our own, closed at once (never pin the WAL)."""
    with closing(sqlite3.connect(db, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def integrity(db: Path) -> list[tuple[Any, ...]]:
    return read_db(db, "PRAGMA integrity_check")


def wait_for(
    probe: Callable[[], T], *, timeout_s: float = 10.0, interval_s: float = 0.05, what: str = ""
) -> T:
    """Poll ``probe`` until it returns something truthy; fail with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout_s:g} s: {what or probe}")
        time.sleep(interval_s)


def acknowledged_id(reply: Reply) -> int:
    """The delivery id of a 2xx answer (the receiver's promise that it is stored)."""
    assert 200 <= reply.status < 300, (reply.status, reply.body[:300])
    delivery_id = reply.json["delivery_id"]
    assert isinstance(delivery_id, int), reply.body[:300]
    return delivery_id


def unstored(db: Path, acked: dict[int, str]) -> dict[int, str]:
    """Acknowledged deliveries not in the DB as what was sent, with why.

    ``acked`` maps each delivery id a 202 named to the ``delivery_key`` that was sent (for
    PagerDuty: :func:`pagerduty_key`) or just the source, for senders without an id.
    """
    rows = {
        row_id: (source, key, status)
        for row_id, source, key, status in read_db(
            db, "SELECT id, source, delivery_key, status FROM deliveries"
        )
    }
    problems: dict[int, str] = {}
    for delivery_id, expected in acked.items():
        row = rows.get(delivery_id)
        if row is None:
            problems[delivery_id] = f"missing ({expected})"
        elif expected not in (row[0], row[1]):
            problems[delivery_id] = f"is {row[:2]}, expected {expected}"
        elif row[2] not in ACKNOWLEDGED:
            problems[delivery_id] = f"status {row[2]!r}"
    return problems


def all_folded(db: Path, ids: list[int]) -> bool:
    """Every delivery in ``ids`` was folded into incidents (status ``accepted``)."""
    if not ids:
        return True
    rows = read_db(db, "SELECT id, status FROM deliveries")
    status = dict(rows)
    return all(status.get(i) == "accepted" for i in ids)


def approve_sample_incident(
    store: Store, settings: Settings, rules: Rules, session_ids: Iterable[str]
) -> None:
    """The sample catalog, sessions editing ``services/processor/retry.py``, the sample
    Alertmanager incident, and every push it proposed approved: context for the exporter."""
    load_catalog_file(store, rules, SAMPLES / "catalog.yaml", "test")
    for session_id in session_ids:
        register(store, rules, session_id, paths=["services/processor/retry.py"])
    firing = sample("alertmanager/firing.json").read_bytes()
    Ingestor(store, settings).ingest("alertmanager", firing, {}, verify="none")
    for (push_id,) in store.conn.execute("SELECT id FROM pushes WHERE state = 'pending'"):
        push_actions.approve(store, push_id, "alice", rules)


def live_push_id(store: Store, session_id: str) -> str:
    """The session's approved (or since delivered) update push: the one an edit revises."""
    (push_id,) = store.conn.execute(
        "SELECT id FROM pushes WHERE session_id = ? AND kind = 'update'"
        " AND state IN ('approved', 'delivered', 'acknowledged')",
        (session_id,),
    ).fetchone()
    return str(push_id)
