"""Signed webhooks over HTTP: our receiver against the least a receiver can do, same run.

Target (2 cores): at least 1,000 signed PagerDuty deliveries/s with server p99 at most 25 ms.
The load comes from another process (8 threads of keep-alive ``http.client``); every delivery is
new (its own ``X-Webhook-Id`` and PagerDuty incident) and all join one incident, as in a storm.
The receiver answers 202 once a delivery is committed and folds it into its incident afterwards,
so a third row says how long after the last 202 every delivery was a signal of the incident.

The receiver's writer commits with ``synchronous=FULL`` (a 202 survives a power cut); the same
load is also run against it at ``NORMAL`` (what it used before: a 202 survived a crash of the
process only), in the same run, so the cost of the fsync per batch is read off the table.

Team mode: the same load against the same receiver on a fresh PostgreSQL schema, right after the
SQLite receiver, in the same run (a cluster started for it, durable as a real one: every commit
flushed before the 202, see :mod:`tests.benchmarks._postgres`). Target: at least 0.7× the SQLite
receiver's rate, and the same server p99 target.
"""

from __future__ import annotations

import math
import sqlite3
import time
from contextlib import ExitStack, closing
from pathlib import Path

import pytest

from tests.benchmarks._common import (
    SAMPLE_SECRET,
    LoadReport,
    Result,
    ServerThread,
    TimingMiddleware,
    minimal_receiver,
    percentile,
    run_loadgen,
    timed_receiver,
    wait_folded,
    workdir,
)
from tests.benchmarks._postgres import DurableCluster, durable_cluster
from tests.benchmarks._postgres import counts as pg_counts

TARGET_RATE = 1000.0
TARGET_P99_MS = 25.0
TARGET_POSTGRES_SHARE = 0.7
"""The PostgreSQL receiver's rate, at least this share of the SQLite receiver's (same run)."""


def receiver_settings(tmp: Path, **overrides: object) -> object:
    """Defaults on loopback, port 0, the PagerDuty secret of the samples."""
    from oncall_tui.config import ExportSettings, ServerSettings, Settings, SourceSettings

    values: dict[str, object] = {
        "db": tmp / "oncall.db",
        "export": ExportSettings(dir=tmp / "context"),
        "server": ServerSettings(host="127.0.0.1", port=0),
        "sources": {"pagerduty": SourceSettings(secret=SAMPLE_SECRET)},
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


def _measure(
    port: int, timing: TimingMiddleware, count: int, warmup: int, run: str
) -> tuple[LoadReport, list[float]]:
    report = run_loadgen(port, source="pagerduty", count=count, warmup=warmup, run=run)
    return report, timing.samples[-count:]


def run(quick: bool = False) -> list[Result]:
    from oncall_tui.core.clock import SystemClock

    count, warmup = (600, 100) if quick else (5000, 300)
    with workdir("http") as tmp, ExitStack() as stack:
        cluster, no_postgres = _cluster(stack)
        base_timing = TimingMiddleware(minimal_receiver(tmp / "minimal.db"))
        with ServerThread(base_timing) as base:
            base_report, base_samples = _measure(base.port, base_timing, count, warmup, "b")
        settings = receiver_settings(tmp)
        with timed_receiver(settings, SystemClock()) as (port, timing):
            report, samples = _measure(port, timing, count, warmup, "o")
            last_202 = max(t for t in report.done_at if t == t)
            folded_at = wait_folded(tmp / "oncall.db", count + warmup)
        postgres = (
            _postgres(tmp, cluster, count, warmup, (report, samples))
            if cluster is not None
            else _no_postgres(no_postgres, report.rate, percentile(samples, 99) * 1000)
        )
        normal_db = tmp / "normal.db"
        normal_settings = receiver_settings(tmp, db=normal_db)
        with timed_receiver(normal_settings, SystemClock(), synchronous="NORMAL") as (
            normal_port,
            normal_timing,
        ):
            normal, normal_samples = _measure(normal_port, normal_timing, count, warmup, "n")
        with closing(sqlite3.connect(normal_db)) as conn:
            normal_stored = conn.execute("SELECT count(*) FROM deliveries").fetchone()[0]
        with closing(sqlite3.connect(tmp / "oncall.db")) as conn:
            stored = conn.execute(
                "SELECT count(*) FROM deliveries WHERE status = 'accepted'"
            ).fetchone()[0]
            signals = conn.execute("SELECT count(*) FROM signals").fetchone()[0]
    complete = report.ok(202) == count and stored == count + warmup and signals == stored
    notes = (
        f"{count} deliveries after {warmup} warm-up; "
        f"202s {report.ok(202)}/{count}, stored {stored}, signals {signals}"
    )
    p50 = percentile(samples, 50) * 1000
    fold_s = folded_at - report.started_at
    rows = [
        Result(
            "ingest: signed webhooks over HTTP",
            report.rate if complete else 0.0,
            "deliveries/s",
            baseline=base_report.rate,
            baseline_label="minimal ASGI endpoint, HMAC + 1 commit",
            target=TARGET_RATE,
            direction="min",
            notes=notes,
            extra={"statuses": report.statuses, "baseline_statuses": base_report.statuses},
        ),
        Result(
            "ingest: server p99 latency",
            percentile(samples, 99) * 1000,
            "ms",
            baseline=percentile(base_samples, 99) * 1000,
            baseline_label="minimal ASGI endpoint",
            target=TARGET_P99_MS,
            direction="max",
            notes=f"p50 {p50:.1f} ms (baseline {percentile(base_samples, 50) * 1000:.1f} ms); "
            f"client-observed p99 {percentile(report.latencies_s, 99) * 1000:.1f} ms; "
            "synchronous=FULL",
        ),
        Result(
            "ingest: the same, writer at synchronous=NORMAL",
            normal.rate if normal.ok(202) == count and normal_stored == count + warmup else 0.0,
            "deliveries/s",
            baseline=base_report.rate,
            baseline_label="minimal ASGI endpoint, HMAC + 1 commit",
            notes=f"the durability used before: a 202 survived a crash of the process, not of "
            f"the OS; server p99 {percentile(normal_samples, 99) * 1000:.1f} ms; "
            f"202s {normal.ok(202)}/{count}, stored {normal_stored}",
            extra={"statuses": normal.statuses},
        ),
        Result(
            "ingest: the same deliveries folded into the incident",
            count / fold_s,
            "deliveries/s",
            notes=f"every delivery a signal of the incident {fold_s:.1f} s after the first "
            f"was sent, {folded_at - last_202:.1f} s after the last 202",
        ),
    ]
    # Each PostgreSQL row beside its SQLite counterpart.
    return rows[:2] + postgres[:2] + rows[2:] + postgres[2:]


def _cluster(stack: ExitStack) -> tuple[DurableCluster | None, str]:
    """A cluster for the PostgreSQL rows, stopped with ``stack``; else None and why."""
    try:
        return stack.enter_context(durable_cluster()), ""
    except RuntimeError as exc:
        return None, str(exc)


def _postgres(
    tmp: Path,
    cluster: DurableCluster,
    count: int,
    warmup: int,
    sqlite: tuple[LoadReport, list[float]],
) -> list[Result]:
    """The same load into the receiver on a fresh schema of ``cluster``, beside ``sqlite``
    (the SQLite receiver's report and server latencies in this run)."""
    from oncall_tui.core.clock import SystemClock

    url = cluster.new_schema()
    with timed_receiver(receiver_settings(tmp, db=url), SystemClock()) as (port, timing):
        report, samples = _measure(port, timing, count, warmup, "p")
        last_202 = max(t for t in report.done_at if t == t)
        folded_at = _wait_folded_postgres(url, count + warmup)
    stored, received, signals = pg_counts(url)
    complete = report.ok(202) == count and stored + received == count + warmup
    sqlite_report, sqlite_samples = sqlite
    p99 = percentile(samples, 99) * 1000
    sqlite_p99 = percentile(sqlite_samples, 99) * 1000
    return [
        Result(
            "ingest on PostgreSQL: signed webhooks over HTTP",
            report.rate if complete else 0.0,
            "deliveries/s",
            baseline=sqlite_report.rate,
            baseline_label="the SQLite receiver above, same load, same run",
            target=TARGET_POSTGRES_SHARE * sqlite_report.rate,
            direction="min",
            notes=f"target {TARGET_POSTGRES_SHARE}× the SQLite receiver's rate; PostgreSQL "
            f"{cluster.version} on a unix socket, fsync and synchronous_commit on; "
            f"202s {report.ok(202)}/{count}, stored {stored + received}, signals {signals}",
            extra={"statuses": report.statuses},
        ),
        Result(
            "ingest on PostgreSQL: server p99 latency",
            p99,
            "ms",
            baseline=sqlite_p99,
            baseline_label="the SQLite receiver above",
            target=TARGET_P99_MS,
            direction="max",
            notes=f"p50 {percentile(samples, 50) * 1000:.1f} ms (SQLite "
            f"{percentile(sqlite_samples, 50) * 1000:.1f} ms); client-observed p99 "
            f"{percentile(report.latencies_s, 99) * 1000:.1f} ms",
        ),
        Result(
            "ingest on PostgreSQL: the same deliveries folded into the incident",
            count / (folded_at - report.started_at),
            "deliveries/s",
            notes=f"every delivery a signal of the incident {folded_at - last_202:.1f} s after "
            "the last 202",
        ),
    ]


def _no_postgres(why: str, sqlite_rate: float, sqlite_p99: float) -> list[Result]:
    """The PostgreSQL rows when no cluster could start: measured nothing, so they fail."""
    return [
        Result(
            "ingest on PostgreSQL: signed webhooks over HTTP",
            math.nan,
            "deliveries/s",
            baseline=sqlite_rate,
            target=TARGET_POSTGRES_SHARE * sqlite_rate,
            direction="min",
            notes=f"not measured: {why}",
        ),
        Result(
            "ingest on PostgreSQL: server p99 latency",
            math.nan,
            "ms",
            baseline=sqlite_p99,
            target=TARGET_P99_MS,
            notes=f"not measured: {why}",
        ),
    ]


def _wait_folded_postgres(url: str, deliveries: int, timeout_s: float = 120.0) -> float:
    """As :func:`~tests.benchmarks._common.wait_folded`, on PostgreSQL: ``time.monotonic()``
    once nothing is left received and ``deliveries`` signals are stored; NaN past the timeout."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _, received, signals = pg_counts(url)
        if received == 0 and signals >= deliveries:
            return time.monotonic()
        time.sleep(0.02)
    return math.nan


@pytest.mark.benchmark
def test_ingest_http_meets_targets() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]
