"""Two engineers' dashboards on one PostgreSQL database: each sees the other's decision as it
commits, told by the journal's news (LISTEN/NOTIFY), not by its own polling."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from textual.widgets import DataTable

from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.store.journal import Store
from oncall_tui.tui.app import AppOptions, OncallApp
from tests.ui.conftest import NOW, seed, settle

POLL_S = 60.0
"""Far longer than the test: only the news can bring the other's decision in time."""
SEEN_WITHIN_S = 1.0


def dashboard(settings: Settings, workdir: Path) -> OncallApp:
    options = AppOptions(poll_interval_s=POLL_S, theme_state=workdir / "ui.toml", user_themes=False)
    return OncallApp(settings, clock=FixedClock(NOW), options=options)


def push_keys(app: OncallApp) -> list[str]:
    table: DataTable[object] = app.screen.query_one("#pushes", DataTable)
    return [str(row.value) for row in table.rows]


async def test_each_dashboard_sees_the_others_approval_within_a_second(
    tmp_path: Path, pg_url: Callable[[], str]
) -> None:
    settings = seed(tmp_path, db=pg_url())
    alice, bob = dashboard(settings, tmp_path / "alice"), dashboard(settings, tmp_path / "bob")
    async with alice.run_test(size=(160, 48)) as at_alice, bob.run_test(size=(160, 48)) as at_bob:
        await settle(at_alice)
        await settle(at_bob)
        assert alice.journal_news.listening and bob.journal_news.listening
        pending = push_keys(bob)
        assert pending, "the story leaves pushes waiting"
        table = alice.screen.query_one("#pushes", DataTable)
        table.focus()
        await settle(at_alice)
        chosen = str(table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value)
        assert chosen in pending

        await at_alice.press("a")
        committed = time.monotonic()
        while chosen in push_keys(bob) and time.monotonic() - committed < 5:
            await at_bob.pause(0.02)
        seen_after = time.monotonic() - committed

        assert chosen not in push_keys(bob), "bob still sees it waiting"
        assert seen_after <= SEEN_WITHIN_S, f"bob saw alice's approval after {seen_after:.2f}s"
        store = Store.open(settings.db)
        try:
            state = store.conn.execute("SELECT state FROM pushes WHERE id = ?", (chosen,))
            assert state.fetchone()[0] == "approved"
        finally:
            store.close()
