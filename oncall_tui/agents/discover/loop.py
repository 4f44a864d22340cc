"""Discovery inside ``serve``: a background thread that looks for sessions every interval."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from oncall_tui.actions import Rules
from oncall_tui.agents.discover.apply import DiscoveryReport, discover
from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.store.journal import Store

log = logging.getLogger(__name__)


class DiscoverLoop:
    """Runs :func:`discover` every ``[discover] interval_s`` (0: never), starting at once.

    It opens its own store (a sqlite connection stays on its thread). Any failure is logged,
    by its type and counts only (a message could quote a transcript), and the next round runs
    as usual: a broken transcript folder must never take ``serve`` down.
    """

    def __init__(self, db_path: Path, settings: Settings, *, clock: Clock | None = None) -> None:
        self._db_path = db_path
        self._settings = settings
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_report: DiscoveryReport | None = None
        self.rounds = 0

    @property
    def enabled(self) -> bool:
        return self._settings.discover.interval_s > 0

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="oncall-discover", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        interval = self._settings.discover.interval_s
        store: Store | None = None
        read_before: dict[Path, float] = {}  # files unchanged since a round are not read again
        failing = ""
        try:
            while True:
                try:
                    store = store or Store.open(self._db_path, self._clock)
                    rules = Rules.from_settings(self._settings)
                    self.last_report = discover(
                        store, rules, self._settings.discover, read_before=read_before
                    )
                    failing = ""
                except Exception as exc:  # the loop must outlive any failure
                    if type(exc).__name__ != failing:
                        failing = type(exc).__name__
                        log.error("session discovery failed (%s); retrying", failing)
                    if store is not None:
                        store.close()
                        store = None
                self.rounds += 1
                if self._stop.wait(interval):
                    return
        finally:
            if store is not None:
                store.close()
