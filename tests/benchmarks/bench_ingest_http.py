"""Signed webhooks over HTTP: our receiver against the least a receiver can do, same run.

Target (2 cores): at least 1,000 signed PagerDuty deliveries/s with server p99 at most 25 ms.
The load comes from another process (8 threads of keep-alive ``http.client``); every delivery is
new (its own ``X-Webhook-Id`` and PagerDuty incident) and all join one incident, as in a storm.
The receiver answers 202 once a delivery is committed and folds it into its incident afterwards,
so a third row says how long after the last 202 every delivery was a signal of the incident.

The receiver's writer commits with ``synchronous=FULL`` (a 202 survives a power cut); the same
load is also run against it at ``NORMAL`` (what it used before: a 202 survived a crash of the
process only), in the same run, so the cost of the fsync per batch is read off the table.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
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

TARGET_RATE = 1000.0
TARGET_P99_MS = 25.0


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
    with workdir("http") as tmp:
        base_timing = TimingMiddleware(minimal_receiver(tmp / "minimal.db"))
        with ServerThread(base_timing) as base:
            base_report, base_samples = _measure(base.port, base_timing, count, warmup, "b")
        settings = receiver_settings(tmp)
        with timed_receiver(settings, SystemClock()) as (port, timing):
            report, samples = _measure(port, timing, count, warmup, "o")
            last_202 = max(t for t in report.done_at if t == t)
            folded_at = wait_folded(tmp / "oncall.db", count + warmup)
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
    return [
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


@pytest.mark.benchmark
def test_ingest_http_meets_targets() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]
