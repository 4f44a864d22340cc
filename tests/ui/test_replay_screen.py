"""The incident replay: stepping, milestones, play, go-to, the document a push carried, and
that nothing is written. Seeded with the whole demo story on a clock that moves with it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Static, TextArea

from oncall_tui.actions import pushes as push_actions
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.demo.command import demo_settings
from oncall_tui.demo.scenario import ScenarioPlayer, load_scenario
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import FENCE_KEY
from oncall_tui.tui.app import OncallApp
from oncall_tui.tui.screens.main import MainScreen
from oncall_tui.tui.screens.replay import ReplayScreen
from oncall_tui.tui.widgets.incident_table import IncidentTable
from oncall_tui.tui.widgets.push_table import PushTable
from oncall_tui.tui.widgets.timeline_strip import TimelineStrip
from tests.ui.conftest import NOW, build_app, settle
from tests.ui.test_snapshots import SIZES, THEMES

STORY_START = NOW - timedelta(seconds=90)
EDITED = "Roll back payment-processor first.\nDo not retry charges."


def seed_story(workdir: Path) -> Settings:
    """The whole demo (through resolution), each step written at its own time, plus one edit."""
    settings = demo_settings(workdir)
    clock = FixedClock(STORY_START)
    store = Store.open(settings.db, clock)
    with store.write() as writer:
        writer.conn.execute("INSERT INTO meta (key, value) VALUES (?, ?)", (FENCE_KEY, "ab" * 32))
    scenario = load_scenario()
    player = ScenarioPlayer(scenario, store, settings, STORY_START)
    player.prepare()
    edited = False
    for step in scenario.steps:
        clock.set(STORY_START + timedelta(seconds=step.after_s))
        player.play(step)
        pending = [
            r[0]
            for r in store.conn.execute(
                "SELECT id FROM pushes WHERE state = 'pending' ORDER BY number"
            )
        ]
        if not edited and step.after_s >= 40 and pending:
            clock.advance(1)
            push_actions.edit(store, pending[0], "user:lead", EDITED)
            edited = True
    store.close()
    return settings


@pytest.fixture
def story(tmp_path: Path) -> Settings:
    return seed_story(tmp_path)


@pytest.fixture
def replay_app(tmp_path: Path, story: Settings) -> Callable[..., OncallApp]:
    def make(theme: str = "oncall-dark") -> OncallApp:
        return build_app(story, tmp_path, theme)

    return make


def max_seq(settings: Settings) -> int:
    return int(sqlite3.connect(settings.db).execute("SELECT max(seq) FROM journal").fetchone()[0])


async def open_replay(pilot: Pilot[None]) -> ReplayScreen:
    """From the main screen, as a lead would: show resolved incidents too, then ``t``."""
    await settle(pilot)
    await pilot.press("slash", *"all", "enter")
    await settle(pilot)
    await pilot.press("t")
    await settle(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReplayScreen)
    assert screen.frame is not None
    return screen


def header(screen: ReplayScreen) -> str:
    return str(screen.query_one("#replay-header", Static).render())


def pending(screen: ReplayScreen) -> list[str]:
    return screen.query_one(PushTable).row_keys_in_order


def incident_state(screen: ReplayScreen) -> str:
    return screen.query_one(IncidentTable).cell_of("INC-1", "state").plain


async def press(pilot: Pilot[None], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await settle(pilot)


async def test_open_step_and_back(replay_app, story: Settings) -> None:  # type: ignore[no-untyped-def]
    before = max_seq(story)
    app: OncallApp = replay_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_replay(pilot)
        assert "INC-1 as of 02:58:34 UTC · event 1/41 · 1x" in header(screen)
        assert pending(screen) == []
        await press(pilot, "shift+right")
        assert "event 11/41" in header(screen)
        assert pending(screen) == ["P-4", "P-3", "P-2", "P-1"]
        await press(pilot, "right", "right", "right")
        assert "event 14/41" in header(screen)
        assert pending(screen) == ["P-4", "P-3", "P-1"], "P-2 was approved at event 13"
        await press(pilot, "left")
        assert "event 13/41" in header(screen)
        await press(pilot, "left")
        assert "event 12/41" in header(screen)
        assert "P-2" in pending(screen)
        await press(pilot, "escape")
        assert isinstance(app.screen, MainScreen)
    assert max_seq(story) == before, "the replay wrote to the journal"


async def test_milestones_and_named_jump(replay_app, story: Settings) -> None:  # type: ignore[no-untyped-def]
    before = max_seq(story)
    app: OncallApp = replay_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_replay(pilot)
        await press(pilot, "right_square_bracket")
        assert "event 2/41" in header(screen), "first signal"
        await press(pilot, "right_square_bracket")
        assert "event 3/41" in header(screen), "incident opened"
        assert incident_state(screen) == "trig"
        await press(pilot, "left_square_bracket")
        assert "event 2/41" in header(screen)
        await press(pilot, "4")  # NAMED_JUMPS[3]: resolved
        assert "event 34/41" in header(screen)
        assert incident_state(screen) == "res"
        assert "resolved" in header(screen)
        assert "resolved" in screen.query_one(TimelineStrip).milestones().plain
    assert max_seq(story) == before


async def test_push_detail_carries_the_guidance(replay_app) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = replay_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_replay(pilot)
        await press(pilot, "shift+right", "right", "right")  # event 13: P-2 approved
        detail = screen.query_one("#replay-detail", TextArea).text
        assert "push.approved · by user:demo-oncall" in detail
        assert "# Production context for session cc-processor-retry" in detail
        assert "### Guidance from the on-call engineer" in detail
        assert "Stability mode for `payment-processor`" in detail
        await press(pilot, "shift+right", "right")  # event 24: the lead's edit
        detail = screen.query_one("#replay-detail", TextArea).text
        assert "Edited by user:lead:" in detail
        assert "+Do not retry charges." in detail
        assert "--- P-5 guidance" in detail


async def test_play_then_pause(replay_app) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = replay_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_replay(pilot)
        for _ in range(5):
            await press(pilot, "plus")
        assert "60x" in header(screen)
        await press(pilot, "space")
        assert "playing" in header(screen)
        await pilot.pause(1.0)
        await settle(pilot)
        assert screen.frame is not None and screen.frame.index > 0
        await press(pilot, "space")
        assert "paused" in header(screen)
        stopped = screen.frame.index
        await pilot.pause(0.6)
        await settle(pilot)
        assert screen.frame.index == stopped


async def test_go_to_time(replay_app) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = replay_app()
    async with app.run_test(size=(160, 48)) as pilot:
        screen = await open_replay(pilot)
        await press(pilot, "g")
        await pilot.press(*"02:59:30")
        await press(pilot, "enter")
        assert isinstance(app.screen, ReplayScreen)
        assert "as of 02:59:30 UTC · event 27/41" in header(screen)
        await press(pilot, "g")
        await pilot.press(*"2026-11-23T02:58:50Z")
        await press(pilot, "enter")
        assert "as of 02:58:50 UTC · event 12/41" in header(screen)


async def test_narrow_hides_sessions(replay_app) -> None:  # type: ignore[no-untyped-def]
    app: OncallApp = replay_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_replay(pilot)
        assert screen.has_class("narrow")
        assert not screen.query_one("#replay-sessions-pane").display
        assert screen.query_one("#replay-detail").region.height >= 5


async def replay_then(pilot: Pilot[None], *keys: str) -> None:
    await open_replay(pilot)
    await press(pilot, *keys)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
def test_replay_snapshot(snap_compare, replay_app, theme: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    async def run_before(pilot: Pilot[None]) -> None:
        await replay_then(pilot, "shift+right", "right", "right")

    assert snap_compare(replay_app(theme), run_before=run_before, terminal_size=size)


async def test_closing_the_replay_gives_its_state_back_to_the_collector(
    replay_app: Callable[..., OncallApp], monkeypatch: pytest.MonkeyPatch
) -> None:
    import asyncio
    import gc

    from oncall_tui.core.replay import cursor as cursor_module

    monkeypatch.setattr(cursor_module, "KEPT_FOLD_ROWS", 1)  # the demo's story is short
    app: OncallApp = replay_app()
    async with app.run_test(size=(160, 48)) as pilot:
        await open_replay(pilot)
        await press(pilot, "shift+right")
        assert gc.get_freeze_count() > 0
        await press(pilot, "escape")
        assert isinstance(app.screen, MainScreen)
        for _ in range(200):  # the replay thread ends the session after the screen is gone
            if gc.get_freeze_count() == 0:
                break
            await asyncio.sleep(0.05)
        assert gc.get_freeze_count() == 0
