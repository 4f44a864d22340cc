"""File ingest (``oncall-tui ingest``): events/s beside bare ``executemany``, three ways.

One commit per delivery (the single-file path, in process): the Ingestor does per delivery
what the receiver does minus HTTP: check the signature, store the raw bytes, parse, fold into
incidents, reconcile pushes, one commit. Target: at least 1,500 events/s.

The batch mode, in process (``ingest --ndjson``'s code path: the NDJSON file read line by line,
:func:`oncall_tui.ingest.batch.ingest_in_batches`, 500 deliveries per commit), and the same
through the real ``oncall-tui ingest pagerduty --ndjson FILE`` subprocess, end to end (start-up,
imports and the DB's creation included). Target: at least 10,000 events/s.

Each row's baseline inserts the same raw rows with one ``sqlite3.executemany`` in one
transaction, in the same run: the ceiling of storing them at all.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks._common import (
    MINIMAL_SCHEMA,
    Result,
    pagerduty_delivery,
    workdir,
)
from tests.support.environment import quiet_environment
from tests.support.samples import REPO

TARGET_EVENTS_S = 1500.0
"""One commit per delivery."""
TARGET_BATCH_EVENTS_S = 10_000.0
"""Batch mode: many deliveries per commit."""
SUBPROCESS_TIMEOUT_S = 300.0


def _settings(db: Path) -> Any:
    from oncall_tui.config import ExportSettings, Settings, SourceSettings

    return Settings(
        db=db,
        export=ExportSettings(dir=db.parent / "context"),
        sources={"pagerduty": SourceSettings(secret="sample-secret")},
    )


def ingest_deliveries(db: Path, deliveries: list[tuple[bytes, dict[str, str]]]) -> float:
    """Seconds the Ingestor takes for ``deliveries``, one commit each, as ``oncall-tui ingest``."""
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.ingest.record import Ingestor
    from oncall_tui.store.journal import Store

    settings = _settings(db)
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


def write_ndjson(path: Path, deliveries: list[tuple[bytes, dict[str, str]]]) -> None:
    """One body per line, as an export or a capture of a sender's deliveries would be."""
    path.write_bytes(b"".join(body + b"\n" for body, _ in deliveries))


def ingest_ndjson_in_process(db: Path, ndjson: Path, count: int) -> float:
    """Seconds for ``ingest --ndjson``'s code path on ``ndjson``: read, 500 per commit."""
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.ingest.batch import ingest_in_batches, ndjson_deliveries
    from oncall_tui.ingest.record import Ingestor
    from oncall_tui.store.journal import Store

    store = Store.open(db, SystemClock())
    try:
        ingestor = Ingestor(store, _settings(db))
        started = time.perf_counter()
        with ndjson.open("rb") as stream:
            summary = ingest_in_batches(
                ingestor, "pagerduty", ndjson_deliveries(stream, _NDJSON_HEADERS, file=str(ndjson))
            )
        took = time.perf_counter() - started
    finally:
        store.close()
    if summary.accepted != count:
        raise AssertionError(f"not all accepted: {summary.as_json()}")
    return took


_NDJSON_HEADERS = {"Content-Type": "application/json"}


def ingest_ndjson_subprocess(tmp: Path, db: Path, ndjson: Path, count: int) -> float:
    """Wall seconds of ``oncall-tui --db DB ingest pagerduty --ndjson FILE --json``, start to exit.

    The machine's ``ONCALL_TUI_*`` variables and XDG directories are kept out, so the command
    sees only its defaults and the DB named here.
    """
    env = quiet_environment(tmp)
    command = [sys.executable, "-m", "oncall_tui", "--db", str(db), "ingest", "pagerduty"]
    command += ["--ndjson", "--json", str(ndjson)]
    started = time.perf_counter()
    proc = subprocess.run(
        command,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=SUBPROCESS_TIMEOUT_S,
        check=False,
    )
    took = time.perf_counter() - started
    if proc.returncode != 0:
        raise AssertionError(f"ingest exited {proc.returncode}: {proc.stderr[-2000:]!r}")
    summary = json.loads(proc.stdout)
    if summary["accepted"] != count:
        raise AssertionError(f"not all accepted: {summary}")
    return took


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


BASELINE_LABEL = "bare sqlite3.executemany of the same rows, 1 transaction"


def run(quick: bool = False) -> list[Result]:
    count = 300 if quick else 3000
    batch_count = 1000 if quick else 10_000
    deliveries = [pagerduty_delivery(i, "f") for i in range(count)]
    batch = [pagerduty_delivery(i, "b") for i in range(batch_count)]
    with workdir("file") as tmp:
        ours = ingest_deliveries(tmp / "oncall.db", deliveries)
        bare = executemany_deliveries(tmp / "bare.db", deliveries)
        ndjson = tmp / "deliveries.ndjson"
        write_ndjson(ndjson, batch)
        in_process = ingest_ndjson_in_process(tmp / "batch.db", ndjson, batch_count)
        bare_batch = executemany_deliveries(tmp / "bare-batch.db", batch)
        end_to_end = ingest_ndjson_subprocess(tmp, tmp / "cli.db", ndjson, batch_count)
        bare_cli = executemany_deliveries(tmp / "bare-cli.db", batch)
    joining = "all joining one incident"
    return [
        _rate_row(
            "ingest: file ingest (Ingestor, commit each)",
            count,
            ours,
            bare,
            TARGET_EVENTS_S,
            f"{count} signed PagerDuty deliveries, {joining}",
        ),
        _rate_row(
            "ingest: batch (NDJSON, 500 per commit, in process)",
            batch_count,
            in_process,
            bare_batch,
            TARGET_BATCH_EVENTS_S,
            f"{batch_count} PagerDuty delivery bodies, one per line, {joining}",
        ),
        _rate_row(
            "ingest: `oncall-tui ingest --ndjson FILE` subprocess, end to end",
            batch_count,
            end_to_end,
            bare_cli,
            TARGET_BATCH_EVENTS_S,
            f"{batch_count} deliveries; start-up and a new DB included ({end_to_end:.2f} s)",
        ),
    ]


def _rate_row(
    name: str, events: int, seconds: float, bare_seconds: float, target: float, notes: str
) -> Result:
    """Events per second, ours beside the bare storage of the same rows."""
    return Result(
        name,
        events / seconds,
        "events/s",
        baseline=events / bare_seconds,
        baseline_label=BASELINE_LABEL,
        target=target,
        direction="min",
        notes=notes,
    )


@pytest.mark.benchmark
def test_ingest_file_meets_target() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]
