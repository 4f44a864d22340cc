"""While batches are ingested the WAL is checkpointed beside them and the collector runs less;
afterwards the connection and the interpreter are as they were, whatever became of the batch."""

from __future__ import annotations

import gc
import io
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.config import ExportSettings, Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest.batch import (
    BatchStoppedError,
    BatchSummary,
    ingest_in_batches,
    ndjson_deliveries,
)
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.checkpoint import wal_bytes
from tests.support.samples import SAMPLES

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
TRIGGERED = (SAMPLES / "pagerduty" / "triggered.json").read_bytes()


def _lines(count: int) -> bytes:
    # One line each, a new PagerDuty event each (the sample's event id made unique).
    return b"\n".join(
        TRIGGERED.replace(b"\n", b"").replace(b'"01', f'"{i:04d}'.encode(), 1) for i in range(count)
    )


def _ingestor(db: Path | str, tmp_path: Path) -> Ingestor:
    from oncall_tui.store.journal import Store

    store = Store.open(db, FixedClock(T0))
    settings = Settings(db=tmp_path / "oncall.db", export=ExportSettings(dir=tmp_path / "ctx"))
    return Ingestor(store, settings)


def test_the_wal_is_kept_beside_the_batches_and_the_settings_given_back(tmp_path: Path) -> None:
    ingestor = _ingestor(tmp_path / "oncall.db", tmp_path)
    conn = ingestor.store.conn
    conn.execute("PRAGMA wal_autocheckpoint = 777")
    threshold = gc.get_threshold()
    during: list[tuple[int, tuple[int, ...], int]] = []

    def watch(_: BatchSummary) -> None:
        (pages,) = conn.execute("PRAGMA wal_autocheckpoint").fetchone()
        during.append((pages, gc.get_threshold(), gc.get_freeze_count()))

    try:
        summary = ingest_in_batches(
            ingestor,
            "pagerduty",
            ndjson_deliveries(io.BytesIO(_lines(30)), {}),
            batch_size=10,
            on_batch=watch,
        )
        (after,) = conn.execute("PRAGMA wal_autocheckpoint").fetchone()
    finally:
        ingestor.store.close()
    assert summary.accepted == 30
    assert all(pages == 0 for pages, _, _ in during)  # the keeper's thread checkpoints
    assert all(young > threshold[0] and frozen > 0 for _, (young, *_), frozen in during)
    assert (after, gc.get_threshold(), gc.get_freeze_count()) == (777, threshold, 0)
    assert wal_bytes(tmp_path / "oncall.db") == 0  # checkpointed and removed on close


def test_a_store_failing_mid_way_gives_the_settings_back(tmp_path: Path) -> None:
    db = tmp_path / "locked.db"
    ingestor = _ingestor(db, tmp_path)
    ingestor.store.conn.execute("PRAGMA busy_timeout = 0")
    other = sqlite3.connect(db, isolation_level=None)
    threshold = gc.get_threshold()

    def lock(_: BatchSummary) -> None:
        if not other.in_transaction:
            other.execute("BEGIN IMMEDIATE")

    try:
        with pytest.raises(BatchStoppedError):
            ingest_in_batches(
                ingestor,
                "pagerduty",
                ndjson_deliveries(io.BytesIO(_lines(5)), {}),
                batch_size=2,
                on_batch=lock,
            )
        other.execute("ROLLBACK")
        (pages,) = ingestor.store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()
    finally:
        other.close()
        ingestor.store.close()
    assert (pages, gc.get_threshold(), gc.get_freeze_count()) == (1000, threshold, 0)


def test_a_store_in_memory_has_no_wal_to_keep(tmp_path: Path) -> None:
    ingestor = _ingestor(":memory:", tmp_path)
    try:
        summary = ingest_in_batches(
            ingestor, "pagerduty", ndjson_deliveries(io.BytesIO(_lines(3)), {}), batch_size=2
        )
    finally:
        ingestor.store.close()
    assert summary.accepted == 3
