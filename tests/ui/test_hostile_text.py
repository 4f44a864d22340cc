"""Every screen and modal over a DB where every sender field is hostile: shown, never obeyed.

Markup in a label crashes a screen (``api[/]``) or turns into a hyperlink to the attacker;
escape sequences write the clipboard or the window title. The walk opens every screen and
dialog of the dashboard, in Pilot and then in a real terminal, and checks what reaches it.
"""

from __future__ import annotations

import re
import sqlite3
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest
from rich.segment import Segment
from textual.command import CommandInput, CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import DataTable

from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.sanitize import display_text
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from oncall_tui.tui.app import OncallApp
from oncall_tui.tui.screens.main import MainScreen
from tests.integration.test_dashboard_kill import COLS, ROWS, Dashboard
from tests.support.environment import without_our_variables
from tests.ui.conftest import build_app, settle
from tests.ui.hostile import (
    DATADOG_TITLE,
    FORBIDDEN,
    HOSTILE,
    HOSTILE_REPO,
    HOSTILE_SERVICE,
    LINK_SERVICE,
    STORY_TIME,
    critical_alert,
    seed_hostile,
)

SIZE = (160, 48)
INVISIBLE = "\x1b\x9b\x07\u202e"
"""Characters of the corpus that must never be drawn, whatever the screen."""


@pytest.fixture
def hostile(tmp_path: Path) -> Settings:
    return seed_hostile(tmp_path, FixedClock(STORY_TIME))


@pytest.fixture
def app(hostile: Settings, tmp_path: Path) -> OncallApp:
    return build_app(hostile, tmp_path, clock=FixedClock(STORY_TIME))


# --- what the terminal receives -------------------------------------------------------------


def segments(app: OncallApp) -> list[Segment]:
    """The whole screen as composed now, modals over what they cover, toasts included."""
    strips = app.screen._compositor.render_strips()
    return [segment for strip in strips for segment in strip]


def screen_text(app: OncallApp) -> str:
    return "\n".join(strip.text for strip in app.screen._compositor.render_strips())


def terminal_output(app: OncallApp) -> str:
    """The escape sequences the driver writes for this screen (links become OSC 8 here)."""
    return "\n".join(strip.render(app.console) for strip in app.screen._compositor.render_strips())


def assert_inert(app: OncallApp, where: str) -> None:
    """Nothing of the corpus was interpreted: no crash, no escape, no link, no click action."""
    assert app.is_running and app._exception is None, f"{where}: the dashboard stopped"
    text = screen_text(app)
    drawn = [ch for ch in INVISIBLE if ch in text]
    assert not drawn, f"{where}: {drawn!r} drawn"
    output = terminal_output(app)
    for sequence in FORBIDDEN:
        assert sequence.decode("latin-1") not in output, f"{where}: {sequence!r} written"
    for segment in segments(app):
        style = segment.style
        if style is None:
            continue
        assert not style.link, f"{where}: {segment.text!r} links to {style.link}"
        click = (style.meta or {}).get("@click")
        assert click is None, f"{where}: clicking {segment.text!r} runs {click}"


async def quick_settle(pilot: Pilot[None]) -> None:
    """The walk reads the screen back rather than snapshotting it: a short paint wait does."""
    await settle(pilot, paint_s=0.1)


async def open_and_close(pilot: Pilot[None], keys: tuple[str, ...], screen: str, where: str) -> str:
    """Press ``keys``, expect ``screen`` on top, check it, close it; returns its text."""
    app = pilot.app
    assert isinstance(app, OncallApp)
    below = type(app.screen).__name__
    await pilot.press(*keys)
    await quick_settle(pilot)
    assert_inert(app, where)
    assert type(app.screen).__name__ == screen, f"{where}: {type(app.screen).__name__} on top"
    text = screen_text(app)
    await pilot.press("escape")
    await quick_settle(pilot)
    assert type(app.screen).__name__ == below, f"{where}: escape did not close it"
    return text


def table(app: OncallApp, selector: str) -> DataTable[object]:
    found: DataTable[object] = app.screen.query_one(selector, DataTable)
    return found


def ingest_live(settings: Settings, service: str) -> None:
    """A delivery while the dashboard runs, through the same ingest path as the receiver's."""
    store = Store.open(settings.db, FixedClock(STORY_TIME))
    try:
        result = Ingestor(store, settings).ingest(
            "events-v2", critical_alert(service, "live"), {}, verify="none"
        )
    finally:
        store.close()
    assert result.status == "accepted", result.reason


def incident_services(settings: Settings) -> dict[str, str]:
    with closing(sqlite3.connect(settings.db)) as conn:
        return dict(conn.execute("SELECT id, service FROM incidents"))


# --- the walk in Pilot ------------------------------------------------------------------------


async def test_every_screen_and_modal_shows_hostile_text_literally(
    app: OncallApp, hostile: Settings
) -> None:
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await quick_settle(pilot)
        assert_inert(app, "main")
        assert "[P1]" in screen_text(app)

        # A critical incident arriving live: its toast names the (hostile) service.
        ingest_live(hostile, f"live {HOSTILE}")
        assert isinstance(app.screen, MainScreen)
        app.screen.refresh_data(force=True)
        await quick_settle(pilot)
        assert any(n.title == "New critical incident" for n in app._notifications)
        assert_inert(app, "toast")

        # Every incident: its row, its details and its note dialog (titled by its service).
        incidents = table(app, "#incidents")
        services = incident_services(hostile)
        assert sorted(str(key.value) for key in incidents.rows) == sorted(services)
        for incident_id, service in services.items():
            incidents.focus()
            incidents.move_cursor(row=incidents.get_row_index(incident_id))
            await quick_settle(pilot)
            assert_inert(app, f"main on {incident_id}")
            await open_and_close(
                pilot, ("enter",), "IncidentDetailScreen", f"{incident_id} details"
            )
            note = await open_and_close(pilot, ("n",), "NoteModal", f"{incident_id} note")
            assert f"Note for {display_text(service)}"[:40] in note, note

        # The broadcast audience, then the replay of the incident that gathered the most.
        incidents.move_cursor(row=incidents.get_row_index("INC-1"))
        await quick_settle(pilot)
        await open_and_close(pilot, ("b",), "BroadcastModal", "broadcast")
        await pilot.press("t")
        await quick_settle(pilot)
        assert type(app.screen).__name__ == "ReplayScreen"
        for key in ("right", "right", "right_square_bracket", "shift+right", "1", "2"):
            await pilot.press(key)
            await quick_settle(pilot)
            assert_inert(app, f"replay after {key}")
        await open_and_close(pilot, ("g",), "JumpModal", "replay jump")
        await pilot.press("escape")
        await quick_settle(pilot)

        # Every session (of all incidents) in detail, every push previewed, the push dialogs.
        await pilot.press("s")
        await quick_settle(pilot)
        sessions = table(app, "#sessions")
        assert sessions.row_count == 3
        for row in range(sessions.row_count):
            sessions.focus()
            sessions.move_cursor(row=row)
            await quick_settle(pilot)
            await open_and_close(pilot, ("enter",), "SessionDetailScreen", f"session row {row}")
        pushes = table(app, "#pushes")
        assert pushes.row_count >= 3
        pushes.focus()
        for row in range(pushes.row_count):
            pushes.move_cursor(row=row)
            await quick_settle(pilot)
            assert_inert(app, f"push preview row {row}")
        # The dialogs name the push by our id; the edit dialog holds the guidance to edit.
        await open_and_close(pilot, ("r",), "RejectModal", "reject")
        await open_and_close(pilot, ("e",), "EditModal", "edit")
        await open_and_close(pilot, ("question_mark",), "HelpScreen", "help")

        # The filter finds the Datadog title by its literal words.
        incidents.focus()
        await pilot.press("slash", *"P1", "enter")
        await quick_settle(pilot)
        assert_inert(app, "filter")
        assert [str(key.value) for key in incidents.rows] == ["INC-2"]

        # The palette: sender titles are shown as written, and found by what they say.
        await pilot.press("ctrl+p")
        await quick_settle(pilot)
        assert isinstance(app.screen, CommandPalette)
        palette_input = app.screen.query_one(CommandInput)
        for query, expected in (
            ("P1", f"INC-2 payments-api {DATADOG_TITLE}"),
            ("hostile", f"hostile-0 claude-code {HOSTILE_REPO}"),
            (HOSTILE_SERVICE, f"INC-1 {HOSTILE_SERVICE} {HOSTILE_SERVICE} down"),
            ("evil", LINK_SERVICE),
        ):
            palette_input.value = ""
            await pilot.press(*query)
            await quick_settle(pilot)
            assert_inert(app, f"palette {query!r}")
            prompts = [str(option.prompt) for option in app.screen.query_one(CommandList).options]
            assert any(expected in prompt for prompt in prompts), (query, prompts)
        await pilot.press("enter")
        await quick_settle(pilot)
        assert type(app.screen).__name__ in ("IncidentDetailScreen", "SessionDetailScreen")
        assert_inert(app, "the hit chosen in the palette")


# --- the same walk in a real terminal ---------------------------------------------------------

KEY = {"enter": b"\r", "escape": b"\x1b", "down": b"\x1b[B", "tab": b"\t", "ctrl+p": b"\x10"}
STEP_TIMEOUT_S = 8.0
"""Longest wait for one screen to be drawn; a loaded 2-core machine answers in well under it."""
DRAWING = re.compile(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]")
"""The cursor moves and colours between the characters of a drawn line."""
ESCDELAY_MS = 25
"""How long the dashboard waits after an ESC for the rest of a key sequence."""
CLOSE_ATTEMPTS = 3
STATUS_BAR = re.compile(rb"\x1b\[[0-9;]*m ?\d+ active(?: incidents?)?")
"""The header's first part: "1 active incident", or "1 active" where the width is short."""


class Terminal:
    """The real dashboard on a pseudo-terminal: keys in, bytes out, each step awaited."""

    def __init__(self, dashboard: Dashboard) -> None:
        self.dashboard = dashboard
        self.missed: list[str] = []
        self.main_screen = b""
        """The status bar as the main screen draws it on top. Under a dialog it is drawn too,
        but dimmed (other colours), and other screens do not draw it: seeing these exact bytes
        again says a dialog or screen has closed."""

    def seen(self, marker: bytes, since: int, timeout_s: float = STEP_TIMEOUT_S) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            drawn = self.dashboard.raw()[since:]
            # A redraw may style part of a line anew, so the marker may come split by escapes.
            if marker in drawn or marker in DRAWING.sub(b"", drawn):
                return True
            if self.dashboard.process.poll() is not None:
                break
            time.sleep(0.02)
        return False

    def start(self) -> bool:
        if not self.seen(b" active", 0, timeout_s=30):
            return False
        found = STATUS_BAR.search(self.dashboard.raw())
        assert found is not None
        self.main_screen = found.group(0)
        return True

    def open(self, keys: bytes, marker: bytes, what: str) -> bool:
        since = len(self.dashboard.raw())
        self.dashboard.press(keys)
        if self.seen(marker, since):
            return True
        self.missed.append(what)
        return False

    def visit(self, keys: bytes, marker: bytes, what: str) -> None:
        """Open a screen, wait for it, close it and wait for the main screen on top again.

        An ESC that arrives while a dialog is still being mounted goes to the screen below
        (where it does nothing), so it is sent again until the main screen shows."""
        if not self.open(keys, marker, what):
            return
        for _ in range(CLOSE_ATTEMPTS):
            since = len(self.dashboard.raw())
            self.dashboard.press(KEY["escape"])
            if self.seen(self.main_screen, since, timeout_s=STEP_TIMEOUT_S / CLOSE_ATTEMPTS):
                # An ESC sent again may still wait in the input parser: a key sent within
                # ESCDELAY of it would be read with it as one alt+key, and be lost.
                time.sleep(ESCDELAY_MS * 4 / 1000)
                return
        self.missed.append(f"back from {what}")


def test_the_terminal_receives_no_attacker_sequence(hostile: Settings, tmp_path: Path) -> None:
    env = without_our_variables()
    env.update(
        # Textual takes the size from these when set (as another test in this process may
        # have done), before it asks the terminal: they must say what the pty says.
        COLUMNS=str(COLS),
        LINES=str(ROWS),
        TERM="xterm-256color",
        ESCDELAY=str(ESCDELAY_MS),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
    )
    dashboard = Dashboard([sys.executable, "-m", "oncall_tui", "--db", str(hostile.db)], env)
    terminal = Terminal(dashboard)
    try:
        assert terminal.start(), dashboard.screen_text()
        terminal.visit(KEY["enter"], b"Suspect changes", "details")
        for row in range(len(incident_services(hostile))):
            terminal.visit(b"n", b"Note for", f"note on row {row}")
            dashboard.press(KEY["down"])
        terminal.visit(b"b", b"Broadcast about", "broadcast")
        terminal.visit(b"t", b" as of ", "replay")
        terminal.visit(b"?", b"Keys", "help")
        terminal.open(b"s", b"all incidents", "sessions and pushes of every incident")
        dashboard.press(KEY["tab"])
        terminal.visit(KEY["enter"], b"Touched paths", "session details")
        dashboard.press(KEY["tab"])
        terminal.visit(b"r", b"Reject P-", "reject")
        terminal.visit(b"e", b"Edit P-", "edit")
        if terminal.open(KEY["ctrl+p"], b"for commands", "palette"):
            # Typed words echo in the input; the title only in a hit, as Datadog wrote it.
            terminal.open(b"High error", b"[P1] [Triggered]", "the Datadog title, literally")
        assert dashboard.process.poll() is None, dashboard.screen_text()[-3000:]
        assert not terminal.missed, (terminal.missed, dashboard.screen_text()[-3000:])
        output = dashboard.raw()
    finally:
        dashboard.close()
    for sequence in FORBIDDEN:
        assert sequence not in output, sequence
