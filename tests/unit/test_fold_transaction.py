"""Folding many deliveries in one transaction: the same journal and projection as one by one.

A batch (``ingest --ndjson``, several files) folds its deliveries under one savepoint, with
the projection's rows (incidents included) held back and its lookups answered from what the
transaction read and wrote. None of that may change what is decided or written.
"""

from __future__ import annotations

from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

import pytest

from oncall_tui.config import Settings
from oncall_tui.core import incidents
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.models import (
    ChangeLink,
    Incident,
    IncidentState,
    Severity,
    SignalKind,
    SignalStatus,
    StoredSignal,
)
from oncall_tui.ingest.prepare import Prepared
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from oncall_tui.store.tables import SqlTables
from tests.factories import T0, at, make_signal
from tests.support.fold_state import pagerduty_delivery, stored_state
from tests.support.samples import SAMPLES

SERVICE = "payment-processor"


def _deliveries() -> list[tuple[str, bytes]]:
    """Opened, acknowledged, resolved, reopened by a new alert; a retry, a signal already
    recorded by another delivery, a resolve before its trigger, and an unreadable body."""
    firing = (SAMPLES / "alertmanager" / "firing.json").read_bytes()
    return [
        ("pagerduty", pagerduty_delivery("triggered")),
        ("alertmanager", firing),
        ("pagerduty", pagerduty_delivery("triggered")),  # a sender's retry: a duplicate delivery
        ("pagerduty", pagerduty_delivery("triggered", event_id="01SAMESIGNALOTHERKEY")),
        ("pagerduty", pagerduty_delivery("acknowledged")),
        ("pagerduty", b"[]"),
        ("pagerduty", pagerduty_delivery("resolved")),
        ("alertmanager", (SAMPLES / "alertmanager" / "resolved.json").read_bytes()),
        (
            "pagerduty",
            pagerduty_delivery("resolved", event_id="01EARLYRESOLVE", incident_id="QLATE"),
        ),
        (
            "pagerduty",
            pagerduty_delivery("triggered", event_id="01LATETRIGGER", incident_id="QLATE"),
        ),
    ]


def _ingest(tmp_path: Path, name: str, *, together: bool) -> tuple[object, ...]:
    store = Store.open(tmp_path / name, FixedClock(T0))
    try:
        ingestor = Ingestor(store, Settings(db=tmp_path / name))
        prepared: list[Prepared] = [
            ingestor.prepare(source, body, {}, verify="none") for source, body in _deliveries()
        ]
        batches = [prepared] if together else [[one] for one in prepared]
        results = [result for batch in batches for result in ingestor.ingest_many(batch)]
        statuses = [r.status for r in results]
        return (statuses, *stored_state(store))
    finally:
        store.close()


def test_a_batch_writes_what_one_delivery_at_a_time_writes(tmp_path: Path) -> None:
    one_by_one = _ingest(tmp_path, "one.db", together=False)
    assert _ingest(tmp_path, "batch.db", together=True) == one_by_one
    statuses = one_by_one[0]
    assert (
        statuses
        == ["accepted", "accepted", "duplicate", *["accepted"] * 2, "rejected"] + ["accepted"] * 4
    )
    counts = {row[0]: row[6] for row in one_by_one[2]}  # type: ignore[attr-defined]
    assert counts[4] == 0  # its one signal was already recorded by the first delivery


def test_a_fold_failing_in_a_batch_is_rejected_alone_as_it_is_one_by_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record = incidents.record_signal

    def record_or_fail(signal, *args):  # type: ignore[no-untyped-def]
        if signal.status is SignalStatus.ACKNOWLEDGED:
            raise RuntimeError("a bug in the fold")
        return record(signal, *args)

    monkeypatch.setattr(incidents, "record_signal", record_or_fail)
    one_by_one = _ingest(tmp_path, "one.db", together=False)
    assert _ingest(tmp_path, "batch.db", together=True) == one_by_one
    assert one_by_one[0][4] == "rejected"  # type: ignore[index]


def _incident(
    number: int, minute: float, state: IncidentState = IncidentState.TRIGGERED
) -> Incident:
    return Incident(
        id=f"INC-{number}",
        number=number,
        title="5xx",
        service=SERVICE,
        severity=Severity.CRITICAL,
        state=state,
        opened_at=at(minute),
        signal_started_at=at(minute),
        updated_at=at(minute),
    )


@pytest.mark.parametrize("hold", [False, True])
def test_the_active_incident_follows_the_transactions_own_writes(
    tmp_path: Path, hold: bool
) -> None:
    store = Store.open(tmp_path / "db", FixedClock(T0))
    with store.write() as writer:
        writer.tables.put_incident(_incident(1, 0))
    window = at(0) - timedelta(minutes=30)
    with store.write() as writer:
        live = writer.tables
        holding = live.holding_incidents() if hold else nullcontext()
        holding.__enter__()
        assert (found := live.active_incident_for_service(SERVICE, window)) is not None
        assert found.id == "INC-1"
        live.put_incident(_incident(1, 0, IncidentState.RESOLVED))
        assert live.active_incident_for_service(SERVICE, window) is None
        live.put_incident(_incident(2, 5))
        live.put_incident(_incident(3, 5))  # started together with INC-2: the first opened wins
        assert (found := live.active_incident_for_service(SERVICE, window)) is not None
        assert found.id == "INC-2"
        assert live.active_incident_for_service(SERVICE, at(6)) is None
        # A wider window than the one first asked for is read from the table again.
        live.put_incident(_incident(4, -40))
        assert (found := live.active_incident_for_service(SERVICE, at(-50))) is not None
        assert found.id == "INC-2"
        live.put_incident(_incident(2, 5, IncidentState.RESOLVED))
        assert (found := live.active_incident_for_service(SERVICE, at(-50))) is not None
        assert found.id == "INC-3"
        assert live.next_incident_number() == 5
        holding.__exit__(None, None, None)
    # The same answers from the table alone, once committed.
    committed = SqlTables(store.conn)
    assert (found := committed.active_incident_for_service(SERVICE, at(-50))) is not None
    assert found.id == "INC-3"
    assert committed.active_incident_for_service(SERVICE, at(6)) is None
    store.close()


def test_held_incidents_are_written_when_the_block_ends(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db", FixedClock(T0))
    with store.write() as writer:
        with writer.tables.holding_incidents():
            writer.tables.put_incident(_incident(1, 0))
            held = writer.conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
        written = writer.conn.execute("SELECT count(*) FROM incidents").fetchone()[0]
    assert (held, written) == (0, 1)
    with (
        pytest.raises(ValueError, match="cached tables"),
        SqlTables(store.conn).holding_incidents(),
    ):
        pass
    store.close()


def test_suspect_changes_follow_the_links_and_changes_written(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db", FixedClock(T0))
    deploy = make_signal(
        "deploy-1", status=SignalStatus.SUCCESS, minute=-10, kind=SignalKind.DEPLOY
    )
    with store.write() as writer:
        live = writer.tables
        live.put_incident(_incident(1, 0))
        assert live.suspect_changes("INC-1") == []
        live.put_signal(StoredSignal(id=7, signal=deploy))
        live.put_change_link(ChangeLink(incident_id="INC-1", signal_id=7, relation="suspect"))
        assert [s.id for s in live.suspect_changes("INC-1")] == [7]
        attached = StoredSignal(id=7, incident_id="INC-1", signal=deploy)
        live.put_signal(attached)
        assert live.suspect_changes("INC-1") == [attached]
    store.close()


def test_an_alerts_unattached_signals_are_found_by_its_own_index(tmp_path: Path) -> None:
    """The store's unattached signals (every change and notice) are many; an alert's are few."""
    store = Store.open(tmp_path / "db", FixedClock(T0))
    statements: list[str] = []
    store.conn.set_trace_callback(statements.append)
    SqlTables(store.conn).unattached_signal_ids("a1")
    store.conn.set_trace_callback(None)
    query = next(s for s in statements if "incident_id IS NULL" in s)
    plan = store.conn.execute("EXPLAIN QUERY PLAN " + query).fetchall()
    assert "signals_alert" in " ".join(str(step[3]) for step in plan)
    store.close()


def test_a_delivery_folded_alone_keeps_its_signal_count(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "db", FixedClock(T0))
    ingestor = Ingestor(store, Settings(db=tmp_path / "db"))
    first = ingestor.ingest("pagerduty", pagerduty_delivery("triggered"), {}, verify="none")
    again = ingestor.ingest(
        "pagerduty", pagerduty_delivery("triggered", event_id="01OTHERKEY"), {}, verify="none"
    )
    counts = dict(store.conn.execute("SELECT id, signal_count FROM deliveries").fetchall())
    assert counts == {first.delivery_id: 1, again.delivery_id: 0}
    store.close()
