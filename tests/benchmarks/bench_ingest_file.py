"""File ingest (``oncall-tui ingest``'s path, in process): events/s beside bare ``executemany``.

The Ingestor does per delivery what the receiver does minus HTTP: check the signature, store the
raw bytes, parse, fold into incidents, reconcile pushes, one commit. The baseline inserts the same
raw rows with one ``sqlite3.executemany`` in one transaction: the ceiling of storing them at all.
Target: at least 1,000 events/s even with a commit per event (performance-and-safety.md §8 P1).
"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.benchmarks._common import (
    MINIMAL_SCHEMA,
    Result,
    pagerduty_delivery,
    workdir,
)

TARGET_EVENTS_S = 1000.0


def ingest_deliveries(db: Path, deliveries: list[tuple[bytes, dict[str, str]]]) -> float:
    """Seconds the Ingestor takes for ``deliveries``, one commit each, as ``oncall-tui ingest``."""
    from oncall_tui.config import ExportSettings, Settings, SourceSettings
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.ingest.record import Ingestor
    from oncall_tui.store.journal import Store

    settings = Settings(
        db=db,
        export=ExportSettings(dir=db.parent / "context"),
        sources={"pagerduty": SourceSettings(secret="sample-secret")},
    )
    store = Store.open(db, SystemClock())
    try:
        ingestor = Ingestor(store, settings)
        started = time.perf_counter()
        for body, headers in deliveries:
            result = ingestor.ingest("pagerduty", body, headers, verify="signature")
            if result.status != "accepted":
                raise AssertionError(f"delivery not accepted: {result.as_json()}")
        return time.perf_counter() - started
    finally:
        store.close()


def executemany_deliveries(db: Path, deliveries: list[tuple[bytes, dict[str, str]]]) -> float:
    """Seconds for the bare insert of the same raw rows, one transaction, WAL/NORMAL."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        for statement in MINIMAL_SCHEMA:
            conn.execute(statement)
        started = time.perf_counter()
        now = datetime.now(UTC).isoformat()
        rows = [
            ("pagerduty", headers["X-Webhook-Id"], now, json.dumps(headers), body)
            for body, headers in deliveries
        ]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO deliveries (source, delivery_key, received_at, headers, body)"
            " VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("COMMIT")
        return time.perf_counter() - started


def run(quick: bool = False) -> list[Result]:
    count = 300 if quick else 3000
    deliveries = [pagerduty_delivery(i, "f") for i in range(count)]
    with workdir("file") as tmp:
        ours = ingest_deliveries(tmp / "oncall.db", deliveries)
        bare = executemany_deliveries(tmp / "bare.db", deliveries)
    return [
        Result(
            "ingest: file ingest (Ingestor, commit each)",
            count / ours,
            "events/s",
            baseline=count / bare,
            baseline_label="bare sqlite3.executemany of the same rows, 1 transaction",
            target=TARGET_EVENTS_S,
            direction="min",
            notes=f"{count} signed PagerDuty deliveries, all joining one incident",
        )
    ]


@pytest.mark.benchmark
def test_ingest_file_meets_target() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]
