"""SVG snapshots of every screen and dialog, at 80x24 and 160x48, in two themes; and the main
screen with long service names and titles at every size an engineer may have."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.ui.conftest import build_app, seed, settle
from tests.ui.long_names import seed_long_names
from tests.ui.notes_seed import seed_notes

SIZES = [(80, 24), (160, 48)]
THEMES = ["oncall-dark", "oncall-light"]


async def focus_pushes(pilot: Pilot[None]) -> None:
    await settle(pilot)
    pilot.app.screen.query_one("#pushes").focus()
    await settle(pilot)


def press(*keys: str, pushes: bool = False) -> Callable[[Pilot[None]], Awaitable[None]]:
    async def run_before(pilot: Pilot[None]) -> None:
        await (focus_pushes(pilot) if pushes else settle(pilot))
        for key in keys:
            await pilot.press(key)
        await settle(pilot)

    return run_before


SCREENS = {
    "main": press(),
    "incident_detail": press("enter"),
    "session_detail": press("tab", "enter"),
    "help": press("question_mark"),
    "reject": press("r", pushes=True),
    "edit": press("e", pushes=True),
    "broadcast": press("b"),
    "note": press("n"),
    "filter": press("slash", "p", "a", "y"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("theme", THEMES)
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, make_app, screen: str, theme: str, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    assert snap_compare(make_app(theme), run_before=SCREENS[screen], terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_notes_screen(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    """Pending agent notes first, the proposal's diff below, then stale notes and the rest."""
    settings = seed(tmp_path)
    seed_notes(settings)
    app = build_app(settings, tmp_path)
    assert snap_compare(app, run_before=press("N"), terminal_size=size)


LAYOUT_SIZES = [(80, 24), (120, 40), (160, 48), (200, 60)]
"""Stacked panes below 120 columns, side by side from there; none may clip or scroll sideways."""


@pytest.mark.parametrize("size", LAYOUT_SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_main_with_long_names(snap_compare, tmp_path: Path, size: tuple[int, int]) -> None:  # type: ignore[no-untyped-def]
    app = build_app(seed_long_names(tmp_path), tmp_path)
    assert snap_compare(app, run_before=press(), terminal_size=size)
