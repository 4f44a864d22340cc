"""Running the configured pollers: one daemon thread each, with backoff and a status for the
dashboard (the pollers themselves: :mod:`.alertmanager`, :mod:`.pagerduty`)."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from oncall_tui.config import ConfigError, PollerSettings, Settings
from oncall_tui.core.clock import Clock
from oncall_tui.server.pollers.alertmanager import AlertmanagerPoller
from oncall_tui.server.pollers.base import (
    MAX_BACKOFF_S,
    IngestFn,
    Poller,
    PollerName,
    PollError,
    backoff_delay,
)
from oncall_tui.server.pollers.pagerduty import PagerDutyPoller
from oncall_tui.store.db import StoreUnavailableError

log = logging.getLogger(__name__)


def make_poller(name: PollerName, config: PollerSettings, ingest: IngestFn, clock: Clock) -> Poller:
    """The poller for one ``[pollers.<name>]`` section. Raises :class:`ConfigError` when the
    section cannot work (a PagerDuty poller without an API key)."""
    if name == "alertmanager":
        return AlertmanagerPoller(config, ingest, clock)
    return PagerDutyPoller(config, ingest, clock)


PollState = Literal["pending", "ok", "error"]


@dataclass(frozen=True)
class PollerStatus:
    """The last outcome of one poller, for the dashboard header. Immutable, so a reader on
    another thread always sees one consistent outcome."""

    name: PollerName
    state: PollState
    """``pending`` until the first poll ends."""
    at: datetime | None
    """When the last poll ended (injected clock)."""
    message: str
    consecutive_failures: int = 0
    next_poll_in_s: float | None = None
    """Delay chosen after the last poll: the interval, or the backoff after failures."""


class PollerHandle:
    """One poller running in its own daemon thread."""

    def __init__(self, poller: Poller, clock: Clock, max_backoff_s: float) -> None:
        self.name: PollerName = poller.name
        self.status = PollerStatus(poller.name, "pending", None, "not polled yet")
        self._poller = poller
        self._clock = clock
        self._stop = threading.Event()
        self._max_backoff_s = max_backoff_s
        self._thread = threading.Thread(target=self._run, name=f"poller-{poller.name}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def request_stop(self) -> None:
        """Ask the thread to end at the poll's next request, without waiting."""
        self._stop.set()
        self._poller.cancel()

    def stop(self, timeout: float = 2.0) -> bool:
        """Ask the thread to end and wait up to ``timeout``; True when it has ended.

        A request in flight ends in the background (bounded by :data:`HTTP_TIMEOUT`), so this
        returns promptly even when the monitoring system hangs.
        """
        self.request_stop()
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        failures = 0
        try:
            while not self._stop.is_set():
                try:
                    report = self._poller.poll_once()
                except Exception as exc:  # a poller must never take the process down
                    if self._stop.is_set():
                        return
                    failures += 1
                    delay = backoff_delay(self._poller.interval_s, failures, self._max_backoff_s)
                    self._failed(exc, failures, delay)
                else:
                    if failures:
                        log.info("poller %s recovered after %d failure(s)", self.name, failures)
                    failures = 0
                    delay = self._poller.interval_s
                    message = report.summary()
                    self.status = PollerStatus(
                        self.name, "ok", self._clock.now(), message, 0, delay
                    )
                if self._stop.wait(delay):
                    return
        finally:
            self._poller.close()

    def _failed(self, exc: Exception, failures: int, delay: float) -> None:
        if isinstance(exc, PollError | StoreUnavailableError):
            message = str(exc)
            log.warning("poller %s: %s (retry in %.1fs)", self.name, message, delay)
        else:
            message = f"{type(exc).__name__}: {exc}"
            log.exception("poller %s failed (retry in %.1fs)", self.name, delay)
        self.status = PollerStatus(self.name, "error", self._clock.now(), message, failures, delay)


class PollerGroup:
    """The running pollers of one process. Iterating yields the :class:`PollerHandle` s."""

    def __init__(self, handles: list[PollerHandle], config_errors: list[PollerStatus]) -> None:
        self._handles = handles
        self._config_errors = config_errors

    def __iter__(self) -> Iterator[PollerHandle]:
        return iter(self._handles)

    def __len__(self) -> int:
        return len(self._handles)

    def statuses(self) -> list[PollerStatus]:
        """Every configured poller's last outcome, including those that could not start."""
        return [*self._config_errors, *(handle.status for handle in self._handles)]

    def stop(self, timeout: float = 2.0) -> bool:
        """Stop every poller within ``timeout`` seconds in all; True when all threads ended."""
        deadline = time.monotonic() + timeout
        for handle in self._handles:
            handle.request_stop()
        stopped = [handle.stop(max(0.0, deadline - time.monotonic())) for handle in self._handles]
        return all(stopped)


def start_pollers(
    settings: Settings,
    ingest: IngestFn,
    clock: Clock,
    *,
    max_backoff_s: float = MAX_BACKOFF_S,
) -> PollerGroup:
    """Start one thread per configured poller; ``ingest`` must be thread-safe (module docstring).

    A section that cannot work is logged and reported in :meth:`PollerGroup.statuses` instead of
    raising: this runs inside ``serve``'s startup and the dashboard, which must come up anyway.
    """
    handles: list[PollerHandle] = []
    config_errors: list[PollerStatus] = []
    sections: tuple[tuple[PollerName, PollerSettings | None], ...] = (
        ("alertmanager", settings.pollers.alertmanager),
        ("pagerduty", settings.pollers.pagerduty),
    )
    for name, config in sections:
        if config is None:
            continue
        try:
            poller = make_poller(name, config, ingest, clock)
        except ConfigError as exc:
            log.error("poller %s not started: %s", name, exc)
            config_errors.append(PollerStatus(name, "error", clock.now(), str(exc)))
            continue
        handles.append(PollerHandle(poller, clock, max_backoff_s))
    for handle in handles:
        handle.start()
    return PollerGroup(handles, config_errors)
