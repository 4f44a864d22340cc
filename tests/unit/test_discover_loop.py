"""The discovery thread of ``serve``: off at 0, and a failure never ends it."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from oncall_tui.agents.discover.loop import DiscoverLoop
from oncall_tui.config import DiscoverSettings, Settings


def _settings(tmp_path: Path, interval_s: float) -> Settings:
    discover = DiscoverSettings(
        claude_projects=tmp_path / "claude",
        codex_sessions=tmp_path / "codex",
        interval_s=interval_s,
    )
    return Settings(db=tmp_path / "oncall.db", discover=discover)


def test_an_interval_of_zero_starts_no_thread(tmp_path: Path) -> None:
    loop = DiscoverLoop(tmp_path / "oncall.db", _settings(tmp_path, 0))
    loop.start()
    assert not loop.enabled and loop.rounds == 0
    loop.stop()


def test_a_failing_round_is_logged_and_the_next_one_runs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The DB's folder does not exist: every round fails to open the store.
    missing = tmp_path / "no" / "such" / "dir" / "oncall.db"
    (tmp_path / "no").write_text("a file where a folder should be")
    loop = DiscoverLoop(missing, _settings(tmp_path, 0.01))
    loop.start()
    deadline = time.monotonic() + 10
    while loop.rounds < 3:
        assert time.monotonic() < deadline, "the loop stopped after a failure"
        time.sleep(0.01)
    loop.stop()
    assert loop.last_report is None
    failures = [r for r in caplog.records if "session discovery failed" in r.getMessage()]
    assert len(failures) == 1  # said once until it changes
