"""The "serve alone" context row still runs, quick: ``oncall-tui serve`` as a real process.

Part of the default test run (not marked ``benchmark``), like ``test_smoke.py``: it checks that
the row is measured and shaped like the others, and that the server process never outlives the
benchmark, not the figure (a shared 2-core machine makes that no pass/fail signal here).
"""

from __future__ import annotations

import math
import os
import time
import tomllib
from pathlib import Path

import pytest

from tests.benchmarks._serve_alone import FilePoller, serve_alone, toml_config
from tests.benchmarks.bench_context import (
    SESSION,
    measure_serve_alone,
    newest_event,
    prepare,
    serve_alone_row,
)
from tests.support.receiver_http import request
from tests.support.samples import SAMPLE_SECRET

QUICK_EVENTS = 50


def test_serve_alone_row_quick() -> None:
    measured = measure_serve_alone(QUICK_EVENTS)
    row = serve_alone_row(measured, in_process_ms=50.0)

    assert measured.load.ok(202) == QUICK_EVENTS
    assert measured.missing == 0, "every event must reach the file written by serve"
    assert measured.versions >= 2  # the first event's version, then the steady phase's
    assert math.isfinite(row.value) and row.value > 0
    assert row.baseline == 50.0 and row.ratio == row.value / 50.0
    assert row.passed in (True, False)
    assert set(row.as_json()) >= {"name", "value", "unit", "baseline", "target", "passed"}


def test_serve_process_is_stopped_when_the_measurement_fails(tmp_path: Path) -> None:
    settings = prepare(tmp_path)
    config: dict[str, dict[str, object]] = {"sources.pagerduty": {"secret": SAMPLE_SECRET}}
    with (
        pytest.raises(RuntimeError, match="measurement failed"),
        serve_alone(tmp_path, settings.db, config) as served,
    ):
        assert request(served.port, "GET", "/healthz").status == 200
        raise RuntimeError("measurement failed")
    assert served.process.poll() is not None
    assert served.process.stdout is not None and served.process.stdout.closed


def test_file_poller_times_each_version_after_it_was_written(tmp_path: Path) -> None:
    target = tmp_path / "sessions" / SESSION / "CONTEXT.md"
    seen: list[tuple[float, int]] = []
    poller = FilePoller(target, lambda at, data: seen.append((at, newest_event(data))))

    poller.poll_once()  # nothing written yet
    target.parent.mkdir(parents=True)
    for index in (1, 2):
        staged = target.with_name(f".CONTEXT.md.{index}")
        staged.write_bytes(f"- payment-processor (evt-{index:06d})\n".encode())
        before = time.monotonic()
        os.replace(staged, target)  # the exporter's atomic write
        poller.poll_once()
        poller.poll_once()  # the same version again: not reported twice
        assert seen[-1][1] == index and seen[-1][0] >= before

    assert [n for _, n in seen] == [1, 2] and poller.versions == 2


def test_toml_config_is_read_back_as_written(tmp_path: Path) -> None:
    text = toml_config(
        {
            "server": {"host": "127.0.0.1", "port": 0},
            "sources.pagerduty": {"secret": 'quote " and \\ backslash'},
            "policy": {"mode": "auto", "auto_approve": ["all"]},
            "export": {"dir": tmp_path / "context"},
        }
    )
    assert tomllib.loads(text) == {
        "server": {"host": "127.0.0.1", "port": 0},
        "sources": {"pagerduty": {"secret": 'quote " and \\ backslash'}},
        "policy": {"mode": "auto", "auto_approve": ["all"]},
        "export": {"dir": str(tmp_path / "context")},
    }
