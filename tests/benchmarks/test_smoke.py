"""The benchmark runner still runs: its cheapest benchmark, quick, as a subprocess.

Part of the default test run (not marked ``benchmark``), so a refactor that breaks the runner
or a benchmark's import is caught without paying for the real measurements. It checks the shape
of ``--json``, not the figures: on a shared 2-core machine they are not a pass/fail signal here.
"""

from __future__ import annotations

import json
import subprocess
import sys

from tests.benchmarks._common import REPO

CHEAPEST = "ingest_file"
ROW_KEYS = {"name", "value", "unit", "baseline", "target", "passed", "ratio", "target_text"}


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
