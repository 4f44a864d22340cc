"""The webhook receiver: an ASGI app that answers a sender only once its delivery is committed.

Senders decide from our status code whether to retry, so the codes are the contract (DESIGN §5):
202 only once the raw delivery is committed (its signals are folded into incidents right after,
see :mod:`oncall_tui.server.writer`), the Ingestor's own status for anything it refused, and 503
with ``Retry-After`` when the store cannot commit, because Alertmanager and PagerDuty drop a
notification on 429 or any other 4xx. Oversized and stalled bodies are refused before they cost
memory or a database write.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
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
from oncall_tui.server.body import BodyTooLargeError, read_body
from oncall_tui.server.sessions_routes import routes as session_routes
from oncall_tui.server.writer import IngestWriter
from oncall_tui.store import deliveries
from oncall_tui.store.db import BUSY_TIMEOUT_MS, StoreUnavailableError

if TYPE_CHECKING:
    from oncall_tui.server.pollers import IngestFn, PollerGroup

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
PREPARE_INLINE_BYTES = 64 * 1024
"""Bodies up to this are checked and parsed on the event loop (well under a millisecond);
bigger ones, such as an Alertmanager group of thousands, on a worker thread."""


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
    writer = IngestWriter(settings, clock, busy_timeout_ms)
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
        headers = _joined_headers(request)
        if len(body) <= PREPARE_INLINE_BYTES:
            prepared = writer.prepare(source, body, headers)
        else:
            prepared = await anyio.to_thread.run_sync(writer.prepare, source, body, headers)
        try:
            result = await writer.ingest_async(prepared)
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
            }
        else:
            content = {"error": result.reason, "delivery_id": result.delivery_id}
        return JSONResponse(content, status_code=result.http_status)

    async def healthz(request: Request) -> Response:
        db = str(settings.db)
        try:
            max_seq, received = await anyio.to_thread.run_sync(_read_progress, settings.db)
        except sqlite3.Error as exc:
            return JSONResponse({"status": "unavailable", "db": db, "error": str(exc)}, 503)
        # "received": deliveries acknowledged and not folded into incidents yet (a backlog).
        health: dict[str, object] = {
            "status": "ok",
            "db": db,
            "max_seq": max_seq,
            "received": received,
        }
        if writer.wal_alarm is not None:
            health["wal_alarm"] = writer.wal_alarm
        return JSONResponse(health)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        pollers = _start_pollers(settings, writer.ingest, clock)
        app.state.pollers = pollers  # the dashboard shows their statuses
        try:
            yield
        finally:
            if pollers is not None:
                await anyio.to_thread.run_sync(pollers.stop)
            await anyio.to_thread.run_sync(writer.close)

    app = Starlette(
        routes=[
            Route("/webhooks/{source}", webhook, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *session_routes(settings, clock),
        ],
        lifespan=lifespan,
    )
    app.state.ingest = writer.ingest
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


def _read_progress(path: Path) -> tuple[int, int]:
    # A connection of its own, read-only: health must not queue behind a write that waits.
    uri = f"{path.resolve().as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True, timeout=1.0)) as conn:
        max_seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])
        return max_seq, deliveries.count_received(conn)


def _start_pollers(settings: Settings, ingest: IngestFn, clock: Clock) -> PollerGroup | None:
    """Pollers live and die with the app, so ``serve`` and the dashboard's receiver both poll."""
    if settings.pollers.alertmanager is None and settings.pollers.pagerduty is None:
        return None
    from oncall_tui.server.pollers import start_pollers  # httpx is loaded only to poll

    return start_pollers(settings, ingest, clock)
