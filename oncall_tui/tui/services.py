"""What screens and the command palette need from the dashboard, as one small typed protocol.

Screens are handed a :class:`DashboardServices` when they are made, instead of reaching up to
the application object: they depend on this contract, never on ``tui/app.py``, so the app can
assemble them without an import circle and a test can give them anything that fits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from textual.app import App

from oncall_tui.store.journal_news import JournalNews
from oncall_tui.tui.engineer_actions import EngineerActions
from oncall_tui.tui.loader import Loader


class DashboardServices(Protocol):
    """Reads, decisions and the status the screens show."""

    @property
    def loader(self) -> Loader:
        """Short-lived connections for the screens' workers."""
        ...

    @property
    def actions(self) -> EngineerActions:
        """The engineer's decisions, under the actor and rules of this dashboard."""
        ...

    @property
    def poll_interval_s(self) -> float:
        """How often the main screen looks for new journal rows; 0: never (snapshots)."""
        ...

    @property
    def journal_news(self) -> JournalNews:
        """Told of new journal rows as they commit (PostgreSQL); not listening on SQLite,
        where the screen looks for them at every poll."""
        ...

    @property
    def export_dir_label(self) -> str:
        """Where context files are written, as the status bar names it."""
        ...

    receiver_state: str
    """What the webhook receiver is doing; set by the receiver once it has a port."""


Stop = Callable[[], None]
"""Stops a service started beside the dashboard."""

Starter = Callable[[App[None], DashboardServices], Stop]
"""Starts a service once the dashboard is mounted. It gets the app for calls onto the UI
thread (toasts, exit, a screen to open) and the services for what it reports or opens with."""
