"""The main screen at the sizes engineers use: nothing clipped, nothing scrolls sideways, the
columns that say which incident and how bad are whole, sessions are named as people know
them, and an incident resolved a moment ago stays listed (dimmed) for ``keep_resolved_s``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from rich.style import Style
from rich.text import Text
from textual.widgets import DataTable

from oncall_tui.core.clock import FixedClock
from oncall_tui.tui.widgets.incident_table import IncidentTable
from oncall_tui.tui.widgets.session_table import SessionTable
from oncall_tui.tui.widgets.synced_table import SyncedTable
from tests.ui.conftest import NOW, build_app, settle
from tests.ui.long_names import (
    LONG_BRANCH,
    LONG_SERVICE,
    RESOLVED_SERVICE,
    SESSION_UUID,
    seed_long_names,
)

SIZES = [(80, 24), (120, 40), (160, 48), (200, 60)]


def cells(table: SyncedTable) -> list[str]:
    return [str(cell) for key in table.rows for cell in table.get_row(key)]


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
async def test_panes_fit_the_screen_and_tables_never_scroll_sideways(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = build_app(seed_long_names(tmp_path), tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, paint_s=0.05)
        width, height = size
        for pane in app.screen.query(".pane"):
            region = pane.region
            assert region.right <= width and region.bottom <= height, (pane.id, region)
        for table in app.screen.query(DataTable):
            assert table.virtual_size.width <= table.size.width, (table.id, table.virtual_size)
            assert not table.show_horizontal_scrollbar, table.id
        incidents = app.screen.query_one(IncidentTable)
        assert {"severity", "id", "service", "title"} <= set(incidents.shown_columns)


@pytest.mark.parametrize("size", [(160, 48), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_wide_screens_show_the_long_service_name_whole(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = build_app(seed_long_names(tmp_path), tmp_path)
    async with app.run_test(size=size) as pilot:
        await settle(pilot, paint_s=0.05)
        assert LONG_SERVICE in cells(app.screen.query_one(IncidentTable))


async def test_sessions_are_named_by_repo_and_branch_not_by_their_id(tmp_path: Path) -> None:
    app = build_app(seed_long_names(tmp_path), tmp_path)
    async with app.run_test(size=(200, 60)) as pilot:
        await settle(pilot, paint_s=0.05)
        shown = cells(app.screen.query_one(SessionTable))
        assert f"payments-api@{LONG_BRANCH}" in shown
        assert not any(SESSION_UUID in cell for cell in shown)
        pane = app.screen.query_one("#sessions-pane")
        assert str(pane.border_title) == "Sessions affected by INC-1"
        await pilot.press("s")
        await settle(pilot, paint_s=0.05)
        assert str(pane.border_title) == "All sessions"


@pytest.mark.parametrize(("later_s", "listed"), [(600, True), (901, False)])
async def test_a_resolved_incident_stays_listed_for_keep_resolved_s(
    tmp_path: Path, later_s: int, listed: bool
) -> None:
    settings = seed_long_names(tmp_path)
    assert settings.ui.keep_resolved_s == 900
    clock = FixedClock(NOW + timedelta(seconds=later_s))
    app = build_app(settings, tmp_path, clock=clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, paint_s=0.05)
        table = app.screen.query_one(IncidentTable)
        assert (RESOLVED_SERVICE in cells(table)) is listed
        if listed:  # every cell of its row is dimmed, by the table's stylesheet
            row = next(r for r in map(table.get_row, table.rows) if str(r[2]) == RESOLVED_SERVICE)
            assert all(dimmed(cell) for cell in row), row


def dimmed(cell: Text) -> bool:
    return any(
        (span.style if isinstance(span.style, Style) else Style.parse(span.style)).dim
        for span in cell.spans
    )
