"""What every poller shares: fetch with httpx when the laptop cannot receive webhooks.

Each poller rebuilds, from what it fetched, the body the sender's webhook would have carried and
feeds it through the same ingest path as HTTP deliveries (``verify="none"``: the poller fetched
the data with its own credentials). So polled data is stored raw, can be re-run, and gets the
alert identity a webhook would give it: an alert that arrives both ways is recorded once.

Pollers run in daemon threads, not asyncio tasks: ingest is blocking SQLite work, and a thread
runs the same beside uvicorn's loop (``serve``) and beside Textual's (the dashboard) without
borrowing either.

Threading contract: pollers never touch a SQLite connection themselves. They call the ``ingest``
function they are given, from their own threads, so it must be thread-safe: pass
``IngestWriter.ingest`` (:mod:`oncall_tui.server.writer`, one writer thread) or an
:class:`~oncall_tui.ingest.record.Ingestor`'s ``ingest`` wrapped in a lock. A bare ``Ingestor.ingest``
is fine only for one poller driven from one thread (``poll_once`` in tests, ``--once``).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import httpx

from oncall_tui.ingest.prepare import Verify
from oncall_tui.ingest.record import IngestResult

PollerName = Literal["alertmanager", "pagerduty"]

MAX_BACKOFF_S = 300.0
"""Longest wait after repeated failures (or the interval, if that is longer): an outage of the
monitoring system must not be hammered, yet its recovery should show within minutes."""

HTTP_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""Bounded so a hung server costs one late poll, never a stuck thread."""

POLLER_HEADER = "x-oncall-poller"
"""Stored with each synthesised delivery so ``oncall-tui deliveries`` tells polls from webhooks."""


class IngestFn(Protocol):
    """``Ingestor.ingest`` or anything with its signature (see the threading contract above)."""

    def __call__(
        self, source: str, body: bytes, headers: Mapping[str, str], /, *, verify: Verify = ...
    ) -> IngestResult: ...


class PollError(Exception):
    """A poll that failed for a reason outside our code: HTTP error, unexpected response, or a
    delivery the adapter refused. The scheduler retries it with backoff."""

    def __init__(self, message: str, http_status: int | None = None) -> None:
        super().__init__(message)
        self.http_status = http_status
        """The server's status code, when it answered with an error."""


@dataclass(frozen=True)
class PollReport:
    """What one successful poll did, for logs, the dashboard header and ``--once``."""

    fetched: int
    """Alerts or incidents the API returned."""
    sent: int
    """Deliveries fed to ingest."""
    duplicates: int
    """Of those, already stored: unchanged since an earlier poll, or seen through a webhook."""
    signals: int
    """New signals recorded."""

    def summary(self) -> str:
        return f"{self.fetched} fetched, {self.signals} new signal(s), {self.duplicates} unchanged"


class Poller(Protocol):
    name: PollerName
    interval_s: float

    def poll_once(self) -> PollReport:
        """Fetch, feed ingest, and return what happened; raise :class:`PollError` on failure."""

    def cancel(self) -> None:
        """Make a poll in flight end at its next request; called from another thread."""

    def close(self) -> None:
        """Release the HTTP connections."""


@dataclass
class Tally:
    """Outcomes of the deliveries one poll fed to ingest."""

    sent: int = 0
    duplicates: int = 0
    signals: int = 0
    rejected: list[str] = field(default_factory=list)

    def add(self, result: IngestResult) -> None:
        self.sent += 1
        self.signals += result.signals
        if result.status == "duplicate":
            self.duplicates += 1
        elif result.status == "rejected":
            self.rejected.append(result.reason or f"HTTP {result.http_status}")

    def report(self, fetched: int) -> PollReport:
        """The poll's report; a refused delivery makes the poll an error, so it shows."""
        if self.rejected:
            raise PollError(
                f"{len(self.rejected)} delivery(ies) rejected, kept raw for "
                f"`oncall-tui deliveries rerun`: {self.rejected[0]}"
            )
        return PollReport(fetched, self.sent, self.duplicates, self.signals)


def encode(payload: Mapping[str, Any]) -> bytes:
    """One byte form per content: sorted keys, no whitespace, so raw bodies compare equal."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def feed(
    ingest: IngestFn, source: PollerName, payload: Mapping[str, Any], headers: Mapping[str, str]
) -> IngestResult:
    """Hand one synthesised webhook body to ingest, marked as coming from a poller."""
    all_headers = {"content-type": "application/json", POLLER_HEADER: source, **headers}
    return ingest(source, encode(payload), all_headers, verify="none")


class ApiClient:
    """httpx with the pollers' rules: bounded timeouts, no redirects, every failure a
    :class:`PollError`, and cancellation between requests, so stopping does not wait for the
    rest of a poll of many pages."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        # No redirects: a redirect to another host would carry our API token along.
        self._client = httpx.Client(
            headers=dict(headers), timeout=HTTP_TIMEOUT, follow_redirects=False
        )
        self._cancelled = threading.Event()

    def get_json(self, url: str, params: Sequence[tuple[str, str]] = ()) -> Any:
        shown = display_url(url)
        if self._cancelled.is_set():
            raise PollError(f"GET {shown}: poller stopped")
        try:
            response = self._client.get(url, params=tuple(params))
        except httpx.HTTPError as exc:
            raise PollError(f"GET {shown}: {type(exc).__name__}: {exc}") from exc
        if response.status_code != 200:
            raise PollError(
                f"GET {shown}: HTTP {response.status_code} {response.reason_phrase}",
                response.status_code,
            )
        try:
            return response.json()
        except ValueError as exc:
            raise PollError(f"GET {shown}: response is not JSON") from exc

    def cancel(self) -> None:
        """Refuse further requests; safe from any thread."""
        self._cancelled.set()

    def close(self) -> None:
        self._client.close()


def display_url(url: str) -> str:
    """The URL without user:password, for messages and stored bodies (httpx sends them as
    basic auth, so a URL may carry credentials)."""
    return str(httpx.URL(url).copy_with(userinfo=b""))


def backoff_delay(interval_s: float, failures: int, max_backoff_s: float = MAX_BACKOFF_S) -> float:
    """Seconds until the next attempt: the interval, doubled per consecutive failure, capped."""
    if failures <= 0:
        return interval_s
    return min(interval_s * 2.0**failures, max(interval_s, max_backoff_s))
