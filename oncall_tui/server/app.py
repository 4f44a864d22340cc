"""The webhook receiver: an ASGI app that answers a sender only once its delivery is committed.

Senders decide from our status code whether to retry, so the codes are the contract (DESIGN §5):
202 only after :meth:`Ingestor.ingest` returned (the commit is done), the Ingestor's own status
for anything it refused, and 503 with ``Retry-After`` when the store cannot commit, because
Alertmanager and PagerDuty drop a notification on 429 or any other 4xx. Oversized and stalled
bodies are refused before they cost memory or a database write.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.ingest import Ingestor, IngestResult, Prepared, Verify
from oncall_tui.server.body import BodyTooLargeError, read_body
from oncall_tui.server.sessions_routes import routes as session_routes
from oncall_tui.store.db import BUSY_TIMEOUT_MS, StoreUnavailableError, connect
from oncall_tui.store.journal import Store

if TYPE_CHECKING:
    from oncall_tui.server.pollers import IngestFn, PollerGroup

log = logging.getLogger(__name__)

"""The whole body must arrive within this; a sender that stalls mid-body gets 408."""
RETRY_AFTER_S = 5
INGEST_THREADS = 4
"""Ingest is serialised by one lock, so more threads than this would only queue on it; a
dedicated limiter also keeps stalled writes from starving other ``to_thread`` users."""


class SharedIngestor:
    """One SQLite connection for every request thread (and the pollers), with group commit.

    Each caller prepares its delivery (credentials, parsing) on its own thread, queues it, and
    takes the write lock; whoever holds the lock commits everything queued in ONE transaction
    (a savepoint per delivery), so the deliveries that arrived meanwhile are answered by that
    commit. Under load this turns many commits into few, which is what a storm needs; alone, a
    delivery still commits at once. The lock also makes concurrent retries of one delivery meet
    in order, so exactly one is stored. After a store failure the connection is reopened on the
    next delivery, so a DB that was read-only or on a full disk is picked up again once fixed.
    """

    def __init__(self, settings: Settings, clock: Clock, busy_timeout_ms: int) -> None:
        self._settings = settings
        self._clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._lock = threading.Lock()
        self._queue_lock = threading.Lock()
        self._queue: list[_Ticket] = []
        self._ingestor: Ingestor | None = self._open()
        # prepare() uses no connection, so request threads run it outside the lock; it keeps
        # this first Ingestor even when the connection is reopened after a failure.
        self._preparer = self._ingestor

    def _open(self) -> Ingestor:
        conn = connect(self._settings.db, busy_timeout_ms=self._busy_timeout_ms)
        store = Store(conn, self._clock, self._settings.db)
        loopback = self._settings.server.is_loopback
        return Ingestor(store, self._settings, require_credentials=not loopback)

    def ingest(
        self, source: str, body: bytes, headers: Mapping[str, str], verify: Verify = "all"
    ) -> IngestResult:
        ticket = _Ticket(self._preparer.prepare(source, body, headers, verify=verify))
        with self._queue_lock:
            self._queue.append(ticket)
        with self._lock:
            while not ticket.done.is_set():  # a long queue takes more than one batch
                self._commit_queued()
        if ticket.error is not None:
            raise ticket.error
        assert ticket.result is not None
        return ticket.result

    def _commit_queued(self) -> None:
        with self._queue_lock:
            batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        try:
            if self._ingestor is None:
                try:
                    self._ingestor = self._open()
                except (sqlite3.Error, OSError) as exc:
                    raise StoreUnavailableError(f"cannot open {self._settings.db}: {exc}") from exc
            results = self._ingestor.ingest_many([t.prepared for t in batch])
        except StoreUnavailableError as exc:
            self._close_locked()
            for ticket in batch:
                ticket.fail(exc)
            return
        for ticket, result in zip(batch, results, strict=True):
            ticket.finish(result)

    def close(self) -> None:
        with self._lock:
            self._close_locked()

    def _close_locked(self) -> None:
        if self._ingestor is not None:
            self._ingestor.store.close()
            self._ingestor = None


MAX_BATCH = 256
"""Deliveries per transaction at most: bounds the time one commit holds the write lock."""


class _Ticket:
    """One queued delivery and, once its batch committed, its outcome."""

    def __init__(self, prepared: Prepared) -> None:
        self.prepared = prepared
        self.result: IngestResult | None = None
        self.error: StoreUnavailableError | None = None
        self.done = threading.Event()

    def finish(self, result: IngestResult) -> None:
        self.result = result
        self.done.set()

    def fail(self, error: StoreUnavailableError) -> None:
        self.error = error
        self.done.set()


def create_app(
    settings: Settings,
    clock: Clock,
    *,
    read_timeout_s: float | None = None,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
) -> Starlette:
    """The receiver for ``settings.db``, with its own connection (never the caller's).

    The DB is opened here, so a missing directory or a schema from a newer version fails now,
    not on the first delivery. The connection is closed when the app's lifespan ends.
    """
    if read_timeout_s is None:
        read_timeout_s = settings.server.read_timeout_s
    shared = SharedIngestor(settings, clock, busy_timeout_ms)
    limiter = anyio.CapacityLimiter(INGEST_THREADS)
    max_body = settings.server.max_body_bytes

    async def webhook(request: Request) -> Response:
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_body:
            return _closing_error(413, f"body over {max_body} bytes")
        try:
            with anyio.fail_after(read_timeout_s):
                body = await read_body(request, max_body)
        except BodyTooLargeError:
            return _closing_error(413, f"body over {max_body} bytes")
        except TimeoutError:
            return _closing_error(408, f"body not received within {read_timeout_s:g} s")
        except ClientDisconnect:
            return Response(status_code=400)  # nobody is listening any more
        source = request.path_params["source"]
        try:
            result = await anyio.to_thread.run_sync(
                shared.ingest, source, body, _joined_headers(request), limiter=limiter
            )
        except StoreUnavailableError as exc:
            log.warning("store unavailable, answering 503 to %s: %s", source, exc)
            return JSONResponse(
                {"error": f"store unavailable: {exc}", "delivery_id": None},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        content: dict[str, object]
        if 200 <= result.http_status < 300:
            content = {
                "status": result.status,
                "delivery_id": result.delivery_id,
                "signals": result.signals,
                "incidents": result.incidents,
            }
        else:
            content = {"error": result.reason, "delivery_id": result.delivery_id}
        return JSONResponse(content, status_code=result.http_status)

    async def healthz(request: Request) -> Response:
        db = str(settings.db)
        try:
            max_seq = await anyio.to_thread.run_sync(_read_max_seq, settings.db)
        except sqlite3.Error as exc:
            return JSONResponse({"status": "unavailable", "db": db, "error": str(exc)}, 503)
        return JSONResponse({"status": "ok", "db": db, "max_seq": max_seq})

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pollers = _start_pollers(settings, shared.ingest, clock)
        app.state.pollers = pollers  # the dashboard shows their statuses
        try:
            yield
        finally:
            if pollers is not None:
                await anyio.to_thread.run_sync(pollers.stop)
            shared.close()

    app = Starlette(
        routes=[
            Route("/webhooks/{source}", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *session_routes(settings, clock),
        ],
        lifespan=lifespan,
    )
    app.state.ingest = shared.ingest
    return app


def _closing_error(status: int, reason: str) -> JSONResponse:
    # Closing the connection is what stops the rest of the body: a kept-alive connection would
    # make the server read and discard it all before the next request.
    return JSONResponse(
        {"error": reason, "delivery_id": None}, status_code=status, headers={"Connection": "close"}
    )


def _joined_headers(request: Request) -> dict[str, str]:
    """Repeated headers joined with ", " (RFC 9110 §5.3) instead of silently keeping one."""
    headers: dict[str, str] = {}
    for name, value in request.headers.items():
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _read_max_seq(path: Path) -> int:
    # A connection of its own, read-only: health must not queue behind a write that waits.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=1.0)) as conn:
        return int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])


def _start_pollers(settings: Settings, ingest: IngestFn, clock: Clock) -> PollerGroup | None:
    """Pollers live and die with the app, so ``serve`` and the dashboard's receiver both poll."""
    if settings.pollers.alertmanager is None and settings.pollers.pagerduty is None:
        return None
    from oncall_tui.server.pollers import start_pollers  # httpx is loaded only to poll

    return start_pollers(settings, ingest, clock)
