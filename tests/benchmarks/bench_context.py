"""From a webhook's 202 to the agent's context file on disk, steady and in a storm.

Setup: policy ``auto`` with ``auto_approve = ["all"]``, the sample catalog, and one registered
session editing ``payment-processor`` code; the first delivery opens the incident, its push is
approved by rule and the exporter (``ExportLoop``, default ``interval_s``) writes
``sessions/<id>/CONTEXT.md``. Every later delivery joins that incident with a title carrying
``evt-<n>``, and the file's recent-signals section shows the newest; so the file *reflects*
delivery n once it names ``evt-m`` for some m ≥ n.

Writes are observed by wrapping the exporter's ``write_atomic`` in this process (exact times
and bytes, no polling); 202 times come from the load generator's process (``time.monotonic``
is one clock for both).

A second p99 row runs the same steady load against ``oncall-tui serve`` alone, a process of its
own (receiver and exporter inside it, as deployed headless), configured by a TOML file of its
own. Its writes cannot be wrapped, so the file is polled from here every 2 ms
(``_serve_alone.FilePoller``): each version is timed when it is first opened, which is never
before it was written and at most one poll interval (plus one ``stat``) after, so that row reads
up to 2 ms high. Its baseline is the in-process p99 of the same run.

Targets: p99 at most 100 ms at 100 events/s; during a 1,000 events/s storm at most 4 writes/s of
the incident's file, and the file current within 1 s of the last event.
"""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks._common import (
    LoadReport,
    Result,
    percentile,
    run_loadgen,
    timed_receiver,
    workdir,
)
from tests.benchmarks._serve_alone import POLL_INTERVAL_S, FilePoller, serve_alone
from tests.benchmarks.bench_ingest_http import receiver_settings
from tests.support.samples import SAMPLE_SECRET, SAMPLES

SESSION = "bench-session"
TARGET_P99_MS = 100.0
TARGET_WRITES_PER_S = 4.0
TARGET_CURRENT_S = 1.0
_EVT = re.compile(rb"evt-(\d{6})")


def newest_event(data: bytes) -> int:
    """The highest ``evt-<n>`` a version of the file names (-1: none)."""
    return max((int(m) for m in _EVT.findall(data)), default=-1)


class WriteLog:
    """Every write of the session's ``CONTEXT.md``: when, and the newest event it names."""

    def __init__(self, target: Path) -> None:
        self.target = target
        self.writes: list[tuple[float, int]] = []
        self._lock = threading.Lock()

    def record(self, path: Path, data: bytes) -> None:
        if Path(path) != self.target:
            return
        self.add(time.monotonic(), newest_event(data))

    def add(self, at: float, newest: int) -> None:
        """One version of the file, seen at ``at`` (``time.monotonic()``), naming ``newest``."""
        with self._lock:
            self.writes.append((at, newest))

    def reflecting(self, index: int, after: float = float("-inf")) -> float | None:
        """When the file first named event ``index`` or a later one."""
        with self._lock:
            return next((t for t, n in self.writes if n >= index and t >= after), None)

    def wait_for(self, index: int, timeout_s: float) -> float | None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = self.reflecting(index)
            if found is not None:
                return found
            time.sleep(0.01)
        return None


@contextmanager
def observed_writes(target: Path) -> Iterator[WriteLog]:
    from oncall_tui.agents.export import plan as file_plan

    log = WriteLog(target)
    # Through vars(): ``plan`` imports the name from ``atomic`` and does not re-export it.
    original = vars(file_plan)["write_atomic"]

    def wrapped(path: Path, data: bytes, mode: int = 0o600) -> None:
        original(path, data, mode)
        log.record(path, data)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(file_plan, "write_atomic", wrapped)
        yield log


def prepare(tmp: Path) -> Any:
    """Settings, catalog and session such that every push is approved by rule."""
    from oncall_tui.actions import Rules
    from oncall_tui.actions.catalog import load_catalog_file
    from oncall_tui.actions.sessions import register
    from oncall_tui.config import PolicySettings
    from oncall_tui.core.agents import AgentKind
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.store.journal import Store

    settings = receiver_settings(tmp, policy=PolicySettings(mode="auto", auto_approve=["all"]))
    store = Store.open(settings.db, SystemClock())  # type: ignore[attr-defined]
    try:
        rules = Rules.from_settings(settings)  # type: ignore[arg-type]
        load_catalog_file(store, rules, SAMPLES / "catalog.yaml", actor="bench")
        register(
            store,
            rules,
            SESSION,
            agent=AgentKind.CLAUDE_CODE,
            repo="acme-payments/payments-api",
            cwd=str(tmp / "checkout"),
            paths=["services/processor/capture.py"],
        )
    finally:
        store.close()
    return settings


def _latencies(report: LoadReport, log: WriteLog, first: int) -> tuple[list[float], int]:
    """Per delivery: 202 → the first write reflecting it (0 if the file was ahead of the 202)."""
    latencies = []
    missing = 0
    for offset, answered in enumerate(report.done_at):
        if answered != answered:  # NaN: never answered
            missing += 1
            continue
        written = log.reflecting(first + offset)
        if written is None:
            missing += 1
            continue
        latencies.append(max(0.0, written - answered))
    return latencies, missing


def _max_writes_per_s(writes: list[float], start: float, end: float) -> int:
    """Most writes in any 1-second window that starts at a write inside [start, end]."""
    inside = [t for t in writes if start <= t <= end]
    return max(
        (sum(1 for u in inside if t <= u < t + 1.0) for t in inside),
        default=0,
    )


def _sync_time(settings: Any, target: Path) -> float:
    """One export sync that writes the file (render, check, atomic write): the floor."""
    from oncall_tui.agents.export.sync import sync
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.store.journal import Store

    store = Store.open(settings.db, SystemClock())
    try:
        samples = []
        for _ in range(5):
            target.unlink(missing_ok=True)
            started = time.perf_counter()
            sync(store, settings)
            samples.append(time.perf_counter() - started)
        return percentile(samples, 50)
    finally:
        store.close()


@dataclass
class ServeAloneRun:
    """The steady phase against ``serve`` alone: per-delivery latencies and what the load got."""

    latencies: list[float]
    missing: int
    load: LoadReport
    versions: int
    """File versions the poller saw."""


def measure_serve_alone(count: int) -> ServeAloneRun:
    """The steady phase (event 0, then ``count`` events at 100/s) against ``serve`` alone, in a
    fresh DB and export dir set up as for the in-process rows."""
    with workdir("context-serve") as tmp:
        settings = prepare(tmp)
        target = settings.export.dir.resolve() / "sessions" / SESSION / "CONTEXT.md"
        log = WriteLog(target)
        config: dict[str, dict[str, object]] = {
            "sources.pagerduty": {"secret": SAMPLE_SECRET},
            "policy": {"mode": "auto", "auto_approve": ["all"]},
            "export": {"dir": settings.export.dir},
        }
        with (
            serve_alone(tmp, settings.db, config) as served,
            FilePoller(target, lambda at, data: log.add(at, newest_event(data))) as poller,
        ):
            run_loadgen(served.port, source="pagerduty", count=1, run="s", threads=1)
            if log.wait_for(0, 10.0) is None:
                raise RuntimeError("serve's context file never named the first event")
            time.sleep(0.5)
            steady = run_loadgen(
                served.port,
                source="pagerduty",
                count=count,
                run="s",
                threads=2,
                rate=100.0,
                first_index=1,
            )
            log.wait_for(count, 5.0)
        latencies, missing = _latencies(steady, log, 1)
    return ServeAloneRun(latencies, missing, steady, poller.versions)


def serve_alone_row(measured: ServeAloneRun, in_process_ms: float) -> Result:
    """The row: p99 from 202 to the first polled version reflecting the event."""
    lat = measured.latencies
    count = len(measured.load.done_at)
    return Result(
        "context: 202 → file p99 at 100 events/s, serve alone",
        percentile(lat, 99) * 1000 if not measured.missing else float("nan"),
        "ms",
        baseline=in_process_ms if math.isfinite(in_process_ms) else None,
        baseline_label="the same load, receiver + ExportLoop in the benchmark's process",
        target=TARGET_P99_MS,
        direction="max",
        notes=f"`oncall-tui serve` as its own process, the file polled every "
        f"{POLL_INTERVAL_S * 1000:g} ms (reads up to that much high); p50 "
        f"{percentile(lat, 50) * 1000:.0f} ms; {count} events at {measured.load.rate:.0f}/s "
        f"achieved (202s {measured.load.ok(202)}/{count}); {measured.missing} never reflected; "
        f"{measured.versions} versions seen",
    )


def run(quick: bool = False) -> list[Result]:
    from oncall_tui.agents.export.loop import ExportLoop
    from oncall_tui.core.clock import SystemClock

    steady_n, storm_n = (200, 1000) if quick else (1000, 5000)
    clock = SystemClock()
    with workdir("context") as tmp:
        settings = prepare(tmp)
        target = settings.export.dir.resolve() / "sessions" / SESSION / "CONTEXT.md"
        with (
            observed_writes(target) as log,
            timed_receiver(settings, clock) as (port, _timing),
        ):
            loop = ExportLoop(settings.db, settings, clock=clock)
            loop.start()
            try:
                # Event 0 opens the incident; its push is approved by rule and exported.
                run_loadgen(port, source="pagerduty", count=1, run="c", threads=1)
                if log.wait_for(0, 10.0) is None:
                    raise RuntimeError("the context file never named the first event")
                time.sleep(0.5)
                steady = run_loadgen(
                    port,
                    source="pagerduty",
                    count=steady_n,
                    run="c",
                    threads=2,
                    rate=100.0,
                    first_index=1,
                )
                log.wait_for(steady_n, 5.0)
                time.sleep(1.0)
                storm_first = steady_n + 1
                storm = run_loadgen(
                    port,
                    source="pagerduty",
                    count=storm_n,
                    run="c",
                    threads=8,
                    rate=1000.0,
                    first_index=storm_first,
                )
                last = storm_first + storm_n - 1
                log.wait_for(last, 10.0)
                time.sleep(1.5)
            finally:
                loop.stop()
        steady_lat, steady_missing = _latencies(steady, log, 1)
        last_answer = max(t for t in storm.done_at if t == t)
        current_at = log.reflecting(last)
        current_s = (current_at - last_answer) if current_at is not None else float("nan")
        storm_end = last_answer + 2.0
        writes = _max_writes_per_s([t for t, _ in log.writes], storm.started_at, storm_end)
        sync_s = _sync_time(settings, target)
    served = measure_serve_alone(steady_n)
    in_process_ms = percentile(steady_lat, 99) * 1000 if not steady_missing else float("nan")
    interval = settings.export.interval_s
    return [
        Result(
            "context: 202 → file p99 at 100 events/s",
            in_process_ms,
            "ms",
            baseline=sync_s * 1000,
            baseline_label="one export sync (render + check + atomic write)",
            target=TARGET_P99_MS,
            direction="max",
            notes=f"p50 {percentile(steady_lat, 50) * 1000:.0f} ms; {steady_n} events at "
            f"{steady.rate:.0f}/s achieved; {steady_missing} never reflected; "
            f"ExportLoop interval_s={interval:g}",
        ),
        serve_alone_row(served, in_process_ms),
        Result(
            "context: file writes/s during 1,000 events/s storm",
            float(writes),
            "writes/s",
            target=TARGET_WRITES_PER_S,
            direction="max",
            notes=f"{storm_n} events, {storm.rate:.0f}/s achieved "
            f"(202s {storm.ok(202)}/{storm_n}); worst 1-s window",
        ),
        Result(
            "context: file current after storm's last event",
            current_s,
            "s",
            baseline=sync_s,
            baseline_label="one export sync",
            target=TARGET_CURRENT_S,
            direction="max",
            notes="from the last 202 to the first write naming the last event",
        ),
    ]


@pytest.mark.benchmark
def test_context_meets_targets() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]
