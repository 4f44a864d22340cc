"""The header says when the hooks or MCP servers have been failing, from their error log."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from rich.style import Style
from textual.pilot import Pilot

from oncall_tui.agents.error_log import record
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.tui.app import AppOptions, OncallApp
from oncall_tui.tui.widgets.status_bar import StatusBar
from tests.ui.conftest import NOW, build_app, settle


def log_failure(db: Path, hours_ago: float) -> None:
    try:
        raise OSError("stands for a failed hook")
    except OSError as exc:
        record(db, "hook claude-code", exc, now=NOW - timedelta(hours=hours_ago))


def header(app: OncallApp) -> str:
    return str(app.screen.query_one(StatusBar).render())


async def test_the_header_marks_the_errors_of_the_last_24_hours(
    seeded: Settings, tmp_path: Path
) -> None:
    for hours_ago in (40, 3, 1):
        log_failure(seeded.db, hours_ago)
    app = build_app(seeded, tmp_path)
    async with app.run_test(size=(200, 48)) as pilot:
        await settle(pilot, paint_s=0.1)
        bar = app.screen.query_one(StatusBar)
        text = bar._text()
        assert "hook errors: 2 (24h)" in text.plain
        [mark] = [
            span for span in text.spans if text.plain[span.start : span.end].startswith("hook")
        ]
        style = mark.style if isinstance(mark.style, Style) else Style.parse(mark.style)
        assert style.bold and style.color is not None and style.color.triplet is not None
        assert style.color.triplet.hex.lower() == app.theme_variables["warning"].lower()[:7]


async def test_without_errors_the_header_has_no_mark(seeded: Settings, tmp_path: Path) -> None:
    log_failure(seeded.db, 30)  # older than the window
    app = build_app(seeded, tmp_path)
    async with app.run_test(size=(200, 48)) as pilot:
        await settle(pilot, paint_s=0.1)
        assert "hook errors" not in header(app)
        assert "1 active incident" in header(app)


async def wait_for(pilot: Pilot[None], condition: Callable[[], bool], limit_s: float = 10) -> None:
    """Until ``condition`` holds: the tick's read runs in a worker thread."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the header did not change in time")


async def test_a_failure_while_the_dashboard_runs_shows_at_the_next_tick(
    seeded: Settings, tmp_path: Path
) -> None:
    options = AppOptions(poll_interval_s=0.05, theme_state=tmp_path / "ui.toml", user_themes=False)
    app = OncallApp(seeded, clock=FixedClock(NOW), options=options)
    async with app.run_test(size=(200, 48)) as pilot:
        await settle(pilot, paint_s=0.1)
        assert "hook errors" not in header(app)

        log_failure(seeded.db, 0.5)

        await wait_for(pilot, lambda: "hook errors: 1 (24h)" in header(app))
