"""The ``report regressions`` benchmark still runs, quick (100 incidents, 1,000 commits).

Part of the default test run (not marked ``benchmark``), like ``test_context_serve.py``: it
checks that the row is measured and shaped like the others and that every built incident is
flagged, not the figure (a shared 2-core machine makes that no pass/fail signal here).
"""

from __future__ import annotations

import math

from tests.benchmarks.bench_reports import TARGET_S, run


def test_report_regressions_row_quick() -> None:
    [row] = run(quick=True)  # raises when not every incident was flagged
    assert math.isfinite(row.value) and row.value > 0
    assert row.baseline is not None and row.baseline > 0
    assert row.target == TARGET_S and row.passed in (True, False)
    assert "100 incidents, 1000 commits" in row.notes
    assert set(row.as_json()) >= {"name", "value", "unit", "baseline", "target", "passed"}
