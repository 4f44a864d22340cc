"""A storm folded many deliveries per transaction writes what one delivery per commit writes.

Past the rows a transaction holds back (:data:`oncall_tui.store.projection_rows.MAX_HELD_ROWS`),
with alerts that come back after their rows were written (acknowledged, resolved, a resolve
before its trigger): the lookups answered without a query, and incident rows updated in their
data alone, must decide and write exactly what the table itself would have answered.
"""

from __future__ import annotations

from pathlib import Path

from oncall_tui.config import Settings
from oncall_tui.core import projection
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest.batch import LocalDelivery, ingest_in_batches
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import dump_projection
from oncall_tui.store.tables import SqlTables
from tests.factories import T0
from tests.support.fold_state import pagerduty_delivery, stored_state

ALERTS = 90


def _pagerduty(sample: str, alert: int, event: str = "") -> bytes:
    return pagerduty_delivery(sample, f"01STORM{sample}{alert:04d}{event}", f"QSTORM{alert:04d}")


def _storm() -> list[bytes]:
    """Every alert triggered, then acknowledged, then resolved; the last ten resolved before
    they trigger; retries, and signals already recorded that come again in another delivery
    (by a second webhook subscription: another event id)."""
    early = range(ALERTS - 10, ALERTS)
    bodies = [_pagerduty("resolved", alert) for alert in early]
    bodies += [_pagerduty("triggered", alert) for alert in range(ALERTS)]
    bodies += [_pagerduty("triggered", alert, "again") for alert in range(0, ALERTS, 9)]
    bodies += [_pagerduty("acknowledged", alert) for alert in range(0, ALERTS, 2)]
    bodies += [_pagerduty("resolved", alert) for alert in range(ALERTS - 10)]
    bodies.insert(len(bodies) - 5, _pagerduty("triggered", 3))
    bodies += [_pagerduty("triggered", alert) for alert in range(5)]  # retries
    return bodies


def _ingest(db: Path, how: str) -> tuple[object, ...]:
    store = Store.open(db, FixedClock(T0))
    try:
        ingestor = Ingestor(store, Settings(db=db))
        bodies = _storm()
        if how == "one by one":
            for body in bodies:
                ingestor.ingest("pagerduty", body, {}, verify="none")
        elif how == "together":
            ingestor.ingest_many(
                [ingestor.prepare("pagerduty", b, {}, verify="none") for b in bodies]
            )
        else:
            deliveries = [LocalDelivery(body, {}, "none") for body in bodies]
            ingest_in_batches(ingestor, "pagerduty", deliveries, batch_size=37)
        return stored_state(store)
    finally:
        store.close()


def _folded_from_scratch(store_path: Path, fresh_path: Path) -> dict[str, list[tuple[object, ...]]]:
    store = Store.open(store_path, FixedClock(T0))
    fresh = Store.open(fresh_path, FixedClock(T0))
    try:
        with fresh.write() as writer:
            projection.fold(store.entries(), SqlTables(writer.conn))
        return dump_projection(fresh.conn)
    finally:
        store.close()
        fresh.close()


def test_a_storm_in_batches_writes_what_one_delivery_per_commit_writes(tmp_path: Path) -> None:
    one_by_one = _ingest(tmp_path / "one.db", "one by one")
    assert _ingest(tmp_path / "together.db", "together") == one_by_one
    assert _ingest(tmp_path / "batches.db", "in batches") == one_by_one
    journal, deliveries, _ = one_by_one
    kinds = [row[3] for row in journal]  # type: ignore[attr-defined]
    assert len(deliveries) == len(_storm()) - 6  # type: ignore[arg-type]  # retries
    again = len(range(0, ALERTS, 9))  # recorded already: accepted, nothing new recorded
    assert kinds.count("signal.recorded") == len(deliveries) - again  # type: ignore[arg-type]
    assert "incident.state_changed" in kinds


def test_the_storms_projection_is_the_fold_of_its_journal(tmp_path: Path) -> None:
    live = _ingest(tmp_path / "one.db", "one by one")[2]
    assert _folded_from_scratch(tmp_path / "one.db", tmp_path / "fresh-one.db") == live
    live = _ingest(tmp_path / "batches.db", "in batches")[2]
    assert _folded_from_scratch(tmp_path / "batches.db", tmp_path / "fresh-batches.db") == live
