"""The benchmark runner still runs: its cheapest benchmark, quick, as a subprocess.

Part of the default test run (not marked ``benchmark``), so a refactor that breaks the runner
or a benchmark's import is caught without paying for the real measurements. It checks the shape
of ``--json``, not the figures: on a shared 2-core machine they are not a pass/fail signal here.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from tests.benchmarks._common import REPO

CHEAPEST = "ingest_file"
ROW_KEYS = {"name", "value", "unit", "baseline", "target", "passed", "ratio", "target_text"}
TABLES = ("incidents", "signals", "sessions")
"""What the dashboard's fixture fills, counted."""


def test_runner_quick_json_shape() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks", "--quick", "--json", "--only", CHEAPEST],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode in (0, 1), proc.stderr[-3000:]  # 1: a target missed, still a table
    report = json.loads(proc.stdout)
    assert report["quick"] is True
    assert report["benchmarks"] == [CHEAPEST]
    assert report["crashed"] == []
    assert {"date", "nproc", "cpu", "python", "sqlite"} <= set(report["machine"])
    rows = report["results"]
    assert rows, "a benchmark returned no rows"
    for row in rows:
        assert set(row) >= ROW_KEYS, row
        assert isinstance(row["value"], int | float) and row["value"] > 0
        assert isinstance(row["baseline"], int | float) and row["baseline"] > 0
        assert row["passed"] in (True, False)
    assert report["passed"] == all(row["passed"] for row in rows)


def test_dashboard_fixture_builds(tmp_path: Path) -> None:
    """The dashboard's DB builder writes rows in the shapes the store's own code makes: a
    rename in the store breaks it only when a run starts, so it is built here, small."""
    from tests.benchmarks.bench_dashboard import build_db

    db = tmp_path / "oncall.db"
    build_db(db, incidents=20, sessions=4, journal=100, now=datetime(2026, 12, 1, tzinfo=UTC))
    with closing(sqlite3.connect(db)) as conn:
        counts = [conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in TABLES]
    assert counts == [20, 100, 4]


def test_export_fixture_builds(tmp_path: Path) -> None:
    """The export benchmark's world, small: its note reaches its agent's sessions alone."""
    from oncall_tui.agents.export.sync import sync
    from tests.benchmarks.bench_export import add_agent_note, agent_sessions, build, shown_to

    world = build(tmp_path, 60)
    try:
        add_agent_note(world)
        assert sync(world.store, world.settings).failed == []
        assert shown_to(world) == agent_sessions(60) == 2
    finally:
        world.store.close()
