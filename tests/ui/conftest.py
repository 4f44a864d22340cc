"""A deterministic dashboard: fixed clock, fixed fence key, the demo story played to a point."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.worker import WorkerCancelled

from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock, FixedClock
from oncall_tui.demo.command import demo_settings
from oncall_tui.demo.scenario import ScenarioPlayer, load_scenario
from oncall_tui.paths import DbLocation
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import FENCE_KEY
from oncall_tui.tui.app import AppOptions, OncallApp

NOW = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
STORY_SECONDS = 45
"""Played up to here: the incident is open, acknowledged, pushes wait, one was approved."""


def seed(workdir: Path, until_s: float = STORY_SECONDS, db: DbLocation | None = None) -> Settings:
    """The demo story played to ``until_s``, into its file in ``workdir`` or into ``db``."""
    settings = demo_settings(workdir)
    if db is not None:
        settings = settings.model_copy(update={"db": db})
    clock = FixedClock(NOW)
    store = Store.open(settings.db, clock)
    with store.write() as writer:
        writer.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (FENCE_KEY, "ab" * 32))
    scenario = load_scenario()
    player = ScenarioPlayer(scenario, store, settings, NOW - timedelta(seconds=until_s))
    player.prepare()
    for step in scenario.steps:
        if step.after_s <= until_s:
            player.play(step)
    store.close()
    return settings


def build_app(
    settings: Settings, workdir: Path, theme: str = "oncall-dark", clock: Clock | None = None
) -> OncallApp:
    settings = settings.model_copy(update={"ui": settings.ui.model_copy(update={"theme": theme})})
    options = AppOptions(
        poll_interval_s=0,
        theme_state=workdir / "ui.toml",
        user_themes=False,
        export_dir_label="/tmp/oncall-demo/context",
    )
    return OncallApp(settings, clock=clock or FixedClock(NOW), options=options)


@pytest.fixture(autouse=True)
def no_cursor_blink(monkeypatch: pytest.MonkeyPatch) -> None:
    """A blinking cursor is on or off at the moment of a snapshot: keep it steadily on."""
    from textual.widgets import Input, TextArea

    monkeypatch.setattr(Input, "_toggle_cursor", lambda self: None)
    monkeypatch.setattr(TextArea, "_toggle_cursor_blink_visible", lambda self: None)


@pytest.fixture
def seeded(tmp_path: Path) -> Settings:
    return seed(tmp_path)


@pytest.fixture
def make_app(tmp_path: Path, seeded: Settings) -> Callable[..., OncallApp]:
    def make(theme: str = "oncall-dark") -> OncallApp:
        return build_app(seeded, tmp_path, theme)

    return make


async def settle(pilot: Pilot[None], rounds: int = 20, paint_s: float = 0.3) -> None:
    """Wait until the screen's workers (loads, previews, actions) are done and painted.

    ``paint_s``: the last wait, for the results to paint; snapshots need the full default,
    a walk that only reads the screen back can do with less."""
    for _ in range(rounds):
        await pilot.pause(0.05)
        try:
            await pilot.app.workers.wait_for_complete()
        except WorkerCancelled:  # a newer load replaced it; wait for that one
            continue
        # Workers post their results as messages; handling one may start more work (a loaded
        # snapshot asks for its preview), so let them be handled before calling it quiet.
        await pilot.pause(0.05)
        if not any(w.is_running for w in pilot.app.workers):
            break
    # Let the last results paint, even on a loaded machine.
    await pilot.pause(paint_s)
    await pilot.wait_for_scheduled_animations()
