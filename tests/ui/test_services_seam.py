"""Screens run on whatever hands them the services, not only on the dashboard app: the seam
that keeps screens from importing the app is real, and actions go through it typed."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from textual.app import App

from oncall_tui.actions import Rules
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.store.journal_news import JournalNews
from oncall_tui.tui.engineer_actions import EngineerActions
from oncall_tui.tui.loader import Loader
from oncall_tui.tui.screens.incident_detail import IncidentDetailScreen
from oncall_tui.tui.screens.main import MainScreen
from oncall_tui.tui.services import DashboardServices
from tests.ui.conftest import NOW, settle


@dataclass
class PlainServices:
    loader: Loader
    actions: EngineerActions
    poll_interval_s: float = 0
    export_dir_label: str = "/nowhere"
    receiver_state: str = "receiver off"
    journal_news: JournalNews = field(default_factory=lambda: JournalNews(":memory:"))


class PlainHost(App[None]):
    """A bare Textual app: no themes, no background services, only the main screen."""

    CSS_PATH = str(Path(__file__).resolve().parents[2] / "oncall_tui" / "tui" / "app.tcss")

    def __init__(self, services: DashboardServices) -> None:
        super().__init__()
        self.services = services

    def on_mount(self) -> None:
        self.push_screen(MainScreen(self.services))


def services_for(settings: Settings) -> PlainServices:
    return PlainServices(
        Loader(settings.db, FixedClock(NOW)),
        EngineerActions("user:seam", Rules.from_settings(settings)),
    )


async def test_the_main_screen_approves_through_the_services_it_was_given(
    seeded: Settings,
) -> None:
    host = PlainHost(services_for(seeded))
    async with host.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        table = host.screen.query_one("#pushes")
        table.focus()
        await settle(pilot)
        await pilot.press("a")
        await settle(pilot)
        assert any("approved" in n.message for n in host._notifications)
    with sqlite3.connect(seeded.db) as conn:
        actor = conn.execute(
            "SELECT actor FROM journal WHERE kind = 'push.approved' ORDER BY seq DESC LIMIT 1"
        ).fetchone()
    assert actor == ("user:seam",)


async def test_a_detail_screen_reads_through_the_services_it_was_given(seeded: Settings) -> None:
    host = PlainHost(services_for(seeded))
    async with host.run_test(size=(160, 48)) as pilot:
        await settle(pilot)
        host.push_screen(IncidentDetailScreen(host.services, "INC-1"))
        await settle(pilot)
        assert "INC-1" in str(host.screen.query_one("#body").render())
