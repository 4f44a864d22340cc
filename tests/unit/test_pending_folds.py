"""The receiver's fold: small deliveries share a savepoint, a big one is folded in chunks, and the
journal's held-back rows keep ``seq`` gap-free through both."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from oncall_tui.config import Settings
from oncall_tui.core import incidents, projection
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest.pending import FOLD_CHUNK, PendingFolds
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import dump_projection
from oncall_tui.store.tables import SqlTables
from tests.factories import T0
from tests.support.postgres import StoreOpener
from tests.support.samples import SAMPLES

# Alertmanager's webhook payload as its docs show it (version 4, one group per delivery):
# https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
FIRING = (SAMPLES / "alertmanager" / "firing.json").read_bytes()


def _one_alert_group(index: int) -> bytes:
    """The sample delivery with its first alert only, named ``index`` (a delivery per alert, as
    a storm of separate groups arrives)."""
    group = json.loads(FIRING)
    alert = dict(group["alerts"][0], fingerprint=f"{index:016x}")
    alert["labels"] = dict(alert["labels"], instance=f"pod-{index}")
    group.update(alerts=[alert], groupKey=f'{{}}:{{alertname="x{index}"}}')
    return json.dumps(group).encode()


def _receive(ingestor: Ingestor, folds: PendingFolds, bodies: list[bytes]) -> list[int]:
    prepared = [ingestor.prepare("alertmanager", body, {}) for body in bodies]
    results = ingestor.receive_many(prepared, durable=False)
    for one, result in zip(prepared, results, strict=True):
        assert result.status == "received" and result.delivery_id is not None
        folds.remember(result.delivery_id, "alertmanager", one.signals, time.monotonic())
    return [r.delivery_id for r in results if r.delivery_id is not None]


def _fold_all(folds: PendingFolds) -> None:
    while folds.fold_some(10.0, lambda: False):
        pass


def _fold_into_fresh_sql(store: Store) -> dict[str, list[tuple[object, ...]]]:
    fresh = Store.open(":memory:")
    with fresh.write() as writer:
        projection.fold(store.entries(), SqlTables(writer.conn))
    return dump_projection(fresh.conn)


def _statuses(store: Store) -> list[tuple[int, str, int]]:
    rows = store.conn.execute("SELECT id, status, signal_count FROM deliveries ORDER BY id")
    return [(int(i), str(s), int(n)) for i, s, n in rows]


def _seqs_are_gap_free(store: Store) -> bool:
    seqs = [int(r[0]) for r in store.conn.execute("SELECT seq FROM journal ORDER BY seq")]
    return seqs == list(range(1, len(seqs) + 1))


@pytest.fixture
def ingestor(tmp_path: Path) -> Ingestor:
    store = Store.open(tmp_path / "oncall.db", FixedClock(T0))
    return Ingestor(store, Settings(db=tmp_path / "oncall.db"))


def test_a_storm_of_small_deliveries_folds_as_one_fold_from_scratch(ingestor: Ingestor) -> None:
    folds = PendingFolds(ingestor)
    ids = _receive(ingestor, folds, [_one_alert_group(i) for i in range(3 * FOLD_CHUNK + 1)])

    _fold_all(folds)

    store = ingestor.store
    assert _statuses(store) == [(i, "accepted", 1) for i in ids]
    assert folds.lag(time.monotonic()) == 0.0
    assert _seqs_are_gap_free(store)
    assert _fold_into_fresh_sql(store) == dump_projection(store.conn)
    (count,) = store.conn.execute("SELECT count(*) FROM incidents").fetchone()
    assert count == 1  # one service, one incident


@pytest.fixture
def ingestor_on_each(open_store: StoreOpener) -> Ingestor:
    """An ingestor on each backend in turn: on PostgreSQL the statements inside a savepoint are
    answered where they are issued, so a rollback to it undoes exactly them."""
    return Ingestor(open_store(FixedClock(T0)), Settings(db=":memory:"))


def test_a_failing_delivery_in_a_shared_savepoint_is_kept_alone(
    ingestor_on_each: Ingestor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The deliveries folded beside it are folded as if it had not been there."""
    ingestor = ingestor_on_each
    folds = PendingFolds(ingestor)
    bodies = [_one_alert_group(i) for i in range(5)]
    ids = _receive(ingestor, folds, bodies)
    record = incidents.record_signal

    def record_or_fail(signal, *args):  # type: ignore[no-untyped-def]
        if signal.delivery_id == ids[2]:
            raise RuntimeError("a bug in the fold")
        return record(signal, *args)

    monkeypatch.setattr(incidents, "record_signal", record_or_fail)
    _fold_all(folds)

    store = ingestor.store
    statuses = _statuses(store)
    assert [s for _, s, _ in statuses] == [
        "accepted",
        "accepted",
        "rejected",
        "accepted",
        "accepted",
    ]
    (reason,) = store.conn.execute(
        "SELECT reason FROM deliveries WHERE id = ?", (ids[2],)
    ).fetchone()
    assert "a bug in the fold" in reason
    signal_deliveries = {int(r[0]) for r in store.conn.execute("SELECT delivery_id FROM signals")}
    assert signal_deliveries == set(ids) - {ids[2]}
    assert _seqs_are_gap_free(store)
    assert _fold_into_fresh_sql(store) == dump_projection(store.conn)
    (count,) = store.conn.execute("SELECT count(*) FROM incidents").fetchone()
    assert count == 1  # one service, one incident


def test_a_big_delivery_is_folded_in_chunks_and_counted_whole(ingestor: Ingestor) -> None:
    group = json.loads(_one_alert_group(0))
    alert = group["alerts"][0]
    alerts = [
        dict(alert, fingerprint=f"{i:016x}", labels=dict(alert["labels"], instance=f"pod-{i}"))
        for i in range(2 * FOLD_CHUNK + 3)
    ]
    big = json.dumps(dict(group, alerts=alerts)).encode()
    folds = PendingFolds(ingestor)
    [small_before] = _receive(ingestor, folds, [_one_alert_group(100)])
    [big_id] = _receive(ingestor, folds, [big])
    [small_after] = _receive(ingestor, folds, [_one_alert_group(101)])

    _fold_all(folds)

    store = ingestor.store
    assert _statuses(store) == [
        (small_before, "accepted", 1),
        (big_id, "accepted", len(alerts)),
        (small_after, "accepted", 1),
    ]
    assert _seqs_are_gap_free(store)
    assert _fold_into_fresh_sql(store) == dump_projection(store.conn)
