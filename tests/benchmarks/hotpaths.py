"""Profiles of the hot paths behind the figures: ``python -m tests.benchmarks.hotpaths NAME``.

NAME is ``ingest`` (the Ingestor on signed PagerDuty deliveries, what the receiver does per
request minus HTTP), ``group`` (one Alertmanager group of many alerts), ``sql`` (time per SQL
statement of ``ingest``) or ``first-screen`` (the dashboard on 100,000 incidents and 10,000,000
journal rows). cProfile, top entries by internal time; RESULTS.md quotes these.
"""

from __future__ import annotations

import asyncio
import cProfile
import pstats
import sqlite3
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from tests.benchmarks._common import (
    alertmanager_alert,
    alertmanager_group,
    pagerduty_delivery,
    workdir,
)

TOP = 25


def _print(profile: cProfile.Profile, what: str, count: int, took: float) -> None:
    print(f"{what}: {count} in {took:.2f} s under the profiler ({count / took:.0f}/s)")
    pstats.Stats(profile).sort_stats("tottime").print_stats(TOP)


def profile_ingest(count: int = 2000) -> None:
    from tests.benchmarks.bench_ingest_file import ingest_deliveries

    deliveries = [pagerduty_delivery(i, "p") for i in range(count)]
    with workdir("profile") as tmp:
        profile = cProfile.Profile()
        profile.enable()
        took = ingest_deliveries(tmp / "oncall.db", deliveries)
        profile.disable()
    _print(profile, "signed PagerDuty deliveries through the Ingestor", count, took)


def profile_group(alerts: int = 2000) -> None:
    from oncall_tui.config import ExportSettings, Settings
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.ingest.record import Ingestor
    from oncall_tui.store.journal import Store

    body = alertmanager_group([alertmanager_alert(i, "g") for i in range(alerts)], "g")
    with workdir("profile") as tmp:
        settings = Settings(db=tmp / "oncall.db", export=ExportSettings(dir=tmp / "context"))
        store = Store.open(settings.db, SystemClock())
        ingestor = Ingestor(store, settings)
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        result = ingestor.ingest("alertmanager", body, {"Content-Type": "application/json"})
        profile.disable()
        took = time.perf_counter() - started
        store.close()
    assert result.signals == alerts, result.as_json()
    _print(profile, "alerts of one Alertmanager group", alerts, took)


def profile_sql(count: int = 2000) -> None:
    """Wall time per distinct SQL statement (a timing connection factory around ``connect``)."""
    import oncall_tui.store.db as db_module
    from tests.benchmarks.bench_ingest_file import ingest_deliveries

    stats: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])

    class Timed(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:  # type: ignore[override]
            started = time.perf_counter()
            try:
                return super().execute(sql, *args)
            finally:
                entry = stats[" ".join(sql.split())[:80]]
                entry[0] += 1
                entry[1] += time.perf_counter() - started

    class Module:
        def __getattr__(self, name: str) -> Any:
            return getattr(sqlite3, name)

        def connect(self, *args: Any, **kwargs: Any) -> sqlite3.Connection:
            return sqlite3.connect(*args, factory=Timed, **kwargs)

    db_module.sqlite3 = Module()  # type: ignore[assignment]
    deliveries = [pagerduty_delivery(i, "p") for i in range(count)]
    with workdir("profile") as tmp:
        took = ingest_deliveries(tmp / "oncall.db", deliveries)
    print(f"{count} deliveries in {took:.2f} s ({count / took:.0f}/s); per statement:")
    for sql, (n, total) in sorted(stats.items(), key=lambda kv: -kv[1][1])[:TOP]:
        print(f"{total * 1000:9.1f} ms {int(n):7d} × {total / n * 1e6:7.1f} µs  {sql}")


def profile_first_screen() -> None:
    from tests.benchmarks.bench_dashboard import _first_screen, build_db

    with workdir("profile") as tmp:
        db = tmp / "big.db"
        build_db(db, incidents=100_000, sessions=1000, journal=10_000_000, now=datetime.now(UTC))
        profile = cProfile.Profile()
        started = time.perf_counter()
        profile.enable()
        out = asyncio.run(_first_screen(db, tmp))
        profile.disable()
        took = time.perf_counter() - started
    print(f"first screen {out} ({took:.2f} s under the profiler; worker threads not profiled)")
    pstats.Stats(profile).sort_stats("cumulative").print_stats(TOP)


PROFILES = {
    "ingest": profile_ingest,
    "group": profile_group,
    "sql": profile_sql,
    "first-screen": profile_first_screen,
}

if __name__ == "__main__":
    names = sys.argv[1:] or list(PROFILES)
    for name in names:
        PROFILES[name]()
