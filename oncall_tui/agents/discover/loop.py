"""Discovery inside ``serve``: a background thread that looks for sessions every interval."""

from __future__ import annotations

from pathlib import Path

from oncall_tui.actions import Rules
from oncall_tui.agents.discover.apply import DiscoveryReport, discover
from oncall_tui.agents.periodic import PeriodicRounds
from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.paths import DbLocation
from oncall_tui.store.journal import Store


class DiscoverLoop(PeriodicRounds):
    """Runs :func:`discover` every ``[discover] interval_s`` (0: never), starting at once.

    A broken transcript folder must never take ``serve`` down: a failed round is logged (see
    :class:`~oncall_tui.agents.periodic.PeriodicRounds`) and the next one runs as usual. Files
    unchanged since a round are not read again.
    """

    name = "session discovery"

    def __init__(
        self, db_path: DbLocation, settings: Settings, *, clock: Clock | None = None
    ) -> None:
        super().__init__(db_path, clock=clock)
        self._settings = settings
        self._read_before: dict[Path, float] = {}
        self.last_report: DiscoveryReport | None = None

    @property
    def interval_s(self) -> float:
        return self._settings.discover.interval_s

    def round(self, store: Store) -> None:
        rules = Rules.from_settings(self._settings)
        self.last_report = discover(
            store, rules, self._settings.discover, read_before=self._read_before
        )
