"""Commits inside ``serve``: resolve new deploys and scan the sessions' checkouts, every interval.

Deploy ranges are resolved here, after the deploy was recorded and outside the receiver's
transaction, so that a webhook's 202 never waits on a git subprocess or on GitHub.

Several ``serve`` may share one database (team mode). Each would find the same deploy not
resolved yet and journal its range again, so only the holder of the ``commits`` lease resolves
deploys. Every serve scans the checkouts of its own host: they exist there alone, and a commit
already known is not journaled again (:func:`~oncall_tui.agents.commits.record.record_commits`
decides that under the write lock).
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
from oncall_tui.store.lease import Lease

SCAN_SESSIONS_WITHIN = timedelta(days=1)
"""The loop scans the checkouts of sessions seen this recently (``commits scan`` goes further)."""
COMMITS_LEASE = "commits"
ROUND_GRACE_S = 60.0
"""The lease lasts the interval plus this: the holder renews it once a round, and a round that
waits on git or on GitHub must not see another serve start resolving the same deploys."""


def commits_round(store: Store, settings: Settings, *, resolve: bool = True) -> None:
    """One round: the deploys not resolved yet (unless ``resolve`` is False: another process
    resolves them), then the recent sessions' signed commits."""
    if resolve:
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
        self._lease = Lease(
            COMMITS_LEASE, "serve", ttl_s=settings.commits.interval_s + ROUND_GRACE_S
        )

    @property
    def interval_s(self) -> float:
        return self._settings.commits.interval_s

    def round(self, store: Store) -> None:
        commits_round(store, self._settings, resolve=self._lease.hold(store.conn))

    def finish(self, store: Store) -> None:
        # Handed over at once on a clean stop, not when it runs out (a minute or more).
        self._lease.release(store.conn)
