"""Commits inside ``serve``: resolve new deploys and scan the sessions' checkouts, every interval.

Deploy ranges are resolved here, after the deploy was recorded and outside the receiver's
transaction, so that a webhook's 202 never waits on a git subprocess or on GitHub.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from pathlib import Path

from oncall_tui.agents.commits.deploys import resolve_deploys
from oncall_tui.agents.commits.scan import scan_trailers
from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.store.journal import Store

log = logging.getLogger(__name__)
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


class CommitsLoop:
    """Runs :func:`commits_round` every ``[commits] interval_s`` (0: never), starting at once.

    It opens its own store (a sqlite connection stays on its thread). A failure is logged by
    its type only (a message could quote a commit subject or a URL) and the next round runs.
    """

    def __init__(self, db_path: Path, settings: Settings, *, clock: Clock | None = None) -> None:
        self._db_path = db_path
        self._settings = settings
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    @property
    def enabled(self) -> bool:
        return self._settings.commits.interval_s > 0

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="oncall-commits", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        store: Store | None = None
        failing = ""
        try:
            while True:
                try:
                    store = store or Store.open(self._db_path, self._clock)
                    commits_round(store, self._settings)
                    failing = ""
                except Exception as exc:  # the loop must outlive any failure
                    if type(exc).__name__ != failing:
                        failing = type(exc).__name__
                        log.error("commit resolution failed (%s); retrying", failing)
                    if store is not None:
                        store.close()
                        store = None
                self.rounds += 1
                if self._stop.wait(self._settings.commits.interval_s):
                    return
        finally:
            if store is not None:
                store.close()
