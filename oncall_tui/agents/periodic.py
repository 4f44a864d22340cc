"""A background thread that runs one round of work on its own store every interval.

``serve`` keeps several such rounds going beside the receiver (session discovery, commits and
deploy ranges). Each opens its own store (a sqlite connection stays on its thread), survives
any failure of a round, and logs a failure by its type only, once until the rounds recover: a
message could quote a transcript, a commit subject or a URL.
"""

from __future__ import annotations

import logging
import threading

from oncall_tui.core.clock import Clock
from oncall_tui.paths import DbLocation
from oncall_tui.store.journal import Store

log = logging.getLogger(__name__)


class PeriodicRounds:
    """Runs :meth:`round` every :attr:`interval_s` seconds (0: never), starting at once."""

    name = "oncall-rounds"
    """The thread's name, and what the log says failed."""

    def __init__(self, db_path: DbLocation, *, clock: Clock | None = None) -> None:
        self._db_path = db_path
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rounds = 0

    @property
    def interval_s(self) -> float:
        raise NotImplementedError

    def round(self, store: Store) -> None:
        raise NotImplementedError

    def finish(self, store: Store) -> None:
        """After the last round of a clean stop (a lease to hand over, say)."""

    @property
    def enabled(self) -> bool:
        return self.interval_s > 0

    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
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
                    self.round(store)
                    failing = ""
                except Exception as exc:  # the loop must outlive any failure
                    if type(exc).__name__ != failing:
                        failing = type(exc).__name__
                        log.error("%s failed (%s); retrying", self.name, failing)
                    if store is not None:
                        store.close()
                        store = None
                self.rounds += 1
                if self._stop.wait(self.interval_s):
                    self._finish(store)
                    return
        finally:
            if store is not None:
                store.close()

    def _finish(self, store: Store | None) -> None:
        try:
            if store is not None:
                self.finish(store)
        except Exception as exc:  # stopping: what was not handed over runs out by itself
            log.warning("%s could not finish (%s)", self.name, type(exc).__name__)
