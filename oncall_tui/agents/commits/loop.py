"""Commits inside ``serve``: resolve new deploys and scan the sessions' checkouts, every interval.

Deploy ranges are resolved here, after the deploy was recorded and outside the receiver's
transaction, so that a webhook's 202 never waits on a git subprocess or on GitHub.
"""

from __future__ import annotations

from datetime import timedelta

from oncall_tui.agents.commits.deploys import resolve_deploys
from oncall_tui.agents.commits.scan import scan_trailers
from oncall_tui.agents.periodic import PeriodicRounds
from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.paths import DbLocation
from oncall_tui.store.journal import Store

SCAN_SESSIONS_WITHIN = timedelta(days=1)
"""The loop scans the checkouts of sessions seen this recently (``commits scan`` goes further)."""


def commits_round(store: Store, settings: Settings) -> None:
    """One round: the deploys not resolved yet, then the recent sessions' signed commits."""
    resolve_deploys(store, settings.repos, first_depth=settings.commits.first_deploy_depth)
    scan_trailers(
        store,
        settings.commits.agent_trailers,
        since=store.clock.now() - SCAN_SESSIONS_WITHIN,
    )


class CommitsLoop(PeriodicRounds):
    """Runs :func:`commits_round` every ``[commits] interval_s`` (0: never), starting at once."""

    name = "commit resolution"

    def __init__(
        self, db_path: DbLocation, settings: Settings, *, clock: Clock | None = None
    ) -> None:
        super().__init__(db_path, clock=clock)
        self._settings = settings

    @property
    def interval_s(self) -> float:
        return self._settings.commits.interval_s

    def round(self, store: Store) -> None:
        commits_round(store, self._settings)
