"""Team mode: from another process's commit to the dashboard's repaint, on PostgreSQL.

A dashboard on a PostgreSQL store is told of each commit by the journal's news
(``LISTEN``/``NOTIFY``, :mod:`oncall_tui.store.journal_news`) and loads at once; its own poll is
set to a minute here, so nothing else can bring the change in time. Another connection (as
another engineer's laptop or a serve would) ingests one Alertmanager notification at a time,
each opening a new incident; the latency is from the commit's return to the first screen
update that shows the new row (observed by wrapping ``App._display``, as the dashboard's
key-to-repaint benchmark does). Target p95 ≤ 1 s (the issue's "within a second"). Baseline,
in the same run: the same on a SQLite file, which the dashboard polls every 0.5 s (its
default ``ui.poll_interval_s``).

The cluster keeps PostgreSQL's durable defaults (:mod:`tests.benchmarks._postgres`).
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks._common import (
    Result,
    alertmanager_alert,
    alertmanager_group,
    percentile,
    workdir,
)
from tests.benchmarks._postgres import durable_cluster
from tests.benchmarks.bench_dashboard import SIZE, _wait_first_screen

TARGET_P95_MS = 1000.0
NEWS_POLL_S = 60.0
"""The PostgreSQL dashboard's own poll: longer than the run, so only the news counts."""
SQLITE_POLL_S = 0.5
"""The dashboard's default poll, which is all a SQLite dashboard has."""
SEEN_TIMEOUT_S = 5.0


def _settings(db: Path | str, tmp: Path) -> Any:
    from oncall_tui.config import ExportSettings, Settings

    return Settings(db=db, export=ExportSettings(dir=tmp / "context"))


def _notification(index: int) -> bytes:
    """One firing alert of a service of its own: a new incident."""
    alert = alertmanager_alert(index, "news", service=f"svc-{index:03d}")
    return alertmanager_group([alert], f"news-{index}")


async def _follow(db: Path | str, tmp: Path, poll_interval_s: float, events: int) -> list[float]:
    """Seconds from each commit elsewhere to the repaint that shows its incident."""
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.ingest.record import Ingestor
    from oncall_tui.store.journal import Store
    from oncall_tui.tui.app import AppOptions, OncallApp
    from oncall_tui.tui.widgets.incident_table import IncidentTable

    settings = _settings(db, tmp)
    options = AppOptions(
        poll_interval_s=poll_interval_s, user_themes=False, theme_state=tmp / "ui.toml"
    )
    app = OncallApp(settings, clock=SystemClock(), options=options)
    elsewhere = Store.open(db, SystemClock())
    ingestor = Ingestor(elsewhere, settings)
    rng = random.Random(11)
    latencies: list[float] = []

    def commit(index: int) -> float:
        ingestor.ingest("alertmanager", _notification(index), {}, verify="none")
        return time.perf_counter()

    try:
        async with app.run_test(size=SIZE) as pilot:
            await _wait_first_screen(app)
            await pilot.pause(0.3)
            table = app.screen.query_one(IncidentTable)
            shown: list[tuple[float, int]] = []
            display = app._display

            def spy(screen: Any, renderable: Any) -> None:
                display(screen, renderable)
                if renderable is not None:
                    shown.append((time.perf_counter(), table.row_count))

            app._display = spy  # type: ignore[method-assign]
            for index in range(events):
                before, mark = table.row_count, len(shown)
                committed = await asyncio.to_thread(commit, index)
                found = None
                while found is None and time.perf_counter() - committed < SEEN_TIMEOUT_S:
                    found = next((t for t, rows in shown[mark:] if rows > before), None)
                    if found is None:
                        await asyncio.sleep(0.001)
                latencies.append(SEEN_TIMEOUT_S if found is None else max(found - committed, 0))
                await asyncio.sleep(rng.uniform(0.05, 0.15))
    finally:
        elsewhere.close()
    return latencies


def run(quick: bool = False) -> list[Result]:
    events = 20 if quick else 60
    with workdir("news") as tmp, durable_cluster() as cluster:
        told = asyncio.run(_follow(cluster.new_schema(), tmp / "pg", NEWS_POLL_S, events))
        polled = asyncio.run(_follow(tmp / "oncall.db", tmp / "sqlite", SQLITE_POLL_S, events))
    p95, baseline = percentile(told, 95) * 1000, percentile(polled, 95) * 1000
    return [
        Result(
            "team mode: another engineer's commit → dashboard repaint p95 (PostgreSQL, NOTIFY)",
            p95,
            "ms",
            baseline=baseline,
            baseline_label=f"SQLite dashboard polling every {SQLITE_POLL_S:g} s",
            target=TARGET_P95_MS,
            direction="max",
            notes=f"{events} new incidents committed by another connection; p50 "
            f"{percentile(told, 50) * 1000:.0f} ms (SQLite {percentile(polled, 50) * 1000:.0f}"
            f" ms); the PostgreSQL dashboard's own poll set to {NEWS_POLL_S:g} s",
        )
    ]


@pytest.mark.benchmark
def test_news_reaches_the_dashboard_within_a_second() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]
