"""The receiver's ASGI app: the Host and Origin checks (:mod:`oncall_tui.server.door`), the
webhook route (:mod:`oncall_tui.server.webhook`), health, the agent-session routes, and the
lifespan that starts and stops the writer and the pollers."""

from __future__ import annotations

import ipaddress
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import TYPE_CHECKING, cast

import anyio.to_thread
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oncall_tui.agents.error_log import recent_errors
from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.paths import DbLocation, display_db, is_postgres_url
from oncall_tui.server.agent_tools_routes import routes as agent_tool_routes
from oncall_tui.server.body import Receive
from oncall_tui.server.decisions_routes import routes as decision_routes
from oncall_tui.server.door import Door
from oncall_tui.server.sessions_routes import routes as session_routes
from oncall_tui.server.webhook import Scope, Send, WebhookRoute, answer
from oncall_tui.server.writer import IngestWriter
from oncall_tui.store import deliveries, refusals
from oncall_tui.store.db import BUSY_TIMEOUT_MS, Synchronous

if TYPE_CHECKING:
    from oncall_tui.server.pollers.base import IngestFn
    from oncall_tui.server.pollers.schedule import PollerGroup


def create_app(
    settings: Settings,
    clock: Clock,
    *,
    read_timeout_s: float | None = None,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    synchronous: Synchronous = "FULL",
    local_secret: str | None = None,
) -> ReceiverApp:
    """The receiver for ``settings.db``, with its own connection (never the caller's).

    The DB is opened here, so a missing directory or a schema from a newer version fails now,
    not on the first delivery. The connection is closed when the app's lifespan ends.
    ``synchronous`` is the writer's durability; FULL unless a benchmark compares.
    ``local_secret`` admits this machine's hooks and CLI decisions
    (:mod:`~oncall_tui.server.local_api`); without it nobody is admitted as local.
    """
    if read_timeout_s is None:
        read_timeout_s = settings.server.read_timeout_s
    writer = IngestWriter(settings, clock, busy_timeout_ms, synchronous)
    door = Door(settings.server)

    async def healthz(request: Request) -> Response:
        # Where the DB is and what the store says are for this machine only: a client
        # elsewhere learns whether we are well, not our file system.
        local = _from_loopback(request)
        try:
            progress = await anyio.to_thread.run_sync(_read_progress, settings.db, clock)
        except sqlite3.Error as exc:
            unavailable: dict[str, object] = {"status": "unavailable"}
            if local:
                unavailable.update(db=display_db(settings.db), error=str(exc))
            return JSONResponse(unavailable, 503)
        max_seq, received, (refused, kept) = progress
        problems = []
        if writer.store_error is not None:  # deliveries are answered 503 meanwhile
            detail = f": {writer.store_error}" if local else ""
            problems.append(f"the store cannot commit{detail}")
        if writer.wal_alarm is not None:
            problems.append("the WAL cannot be checkpointed (a reader holds it)")
        health: dict[str, object] = {"status": "degraded" if problems else "ok"}
        if problems:
            health["reason"] = "; ".join(problems)
        if local:
            health["db"] = display_db(settings.db)
        # "received": deliveries acknowledged and not folded into incidents yet (a backlog).
        health.update(max_seq=max_seq, received=received, durability=writer.durability)
        # Refusals of senders we could not authenticate, this minute: counted, few stored.
        health["refused_last_minute"] = {"count": refused, "stored": kept}
        health["refused_requests"] = dict(door.refused)  # Host and Origin, since start
        # The hooks and MCP servers swallow their failures (the agent must go on): counted here.
        errors = await anyio.to_thread.run_sync(recent_errors, settings.db, clock.now())
        health["agent_errors_24h"] = errors.count
        health["last_agent_error_at"] = errors.last_at.isoformat() if errors.last_at else None
        if local and writer.wal_alarm is not None:
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

    rest = Starlette(
        routes=[
            Route("/healthz", healthz, methods=["GET"]),
            *session_routes(settings, clock, local_secret),
            *agent_tool_routes(settings, clock, local_secret),
            *decision_routes(settings, clock, local_secret),
        ],
        lifespan=lifespan,
    )
    webhooks = WebhookRoute(
        writer, max_body=settings.server.max_body_bytes, read_timeout_s=read_timeout_s
    )
    return ReceiverApp(door, webhooks, rest, writer.ingest)


class ReceiverApp:
    """The door's checks, then the webhook route ahead of the Starlette app that serves
    everything else (and runs the lifespan: pollers and the writer start and stop with it)."""

    def __init__(
        self, door: Door, webhooks: WebhookRoute, rest: Starlette, ingest: IngestFn
    ) -> None:
        self.door = door
        self.webhooks = webhooks
        self.rest = rest
        self.ingest = ingest
        """Prepare, commit and answer one delivery from a thread (pollers, tests)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            refused = self.door.refusal(scope["headers"])
            if refused is not None:
                status, reason = refused
                # Its body is not read: closing is what stops the rest of it.
                await answer(send, status, {"error": reason}, [(b"connection", b"close")])
                return
            if self.webhooks.matches(scope["path"]):
                await self.webhooks(scope, receive, send)
                return
        await self.rest(scope, receive, send)


def _read_progress(location: DbLocation, clock: Clock) -> tuple[int, int, tuple[int, int]]:
    # A connection of its own, read-only: health must not queue behind a write that waits.
    with closing(_reader(location)) as conn:
        max_seq = int(conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()[0])
        received = deliveries.count_received(conn)
        return max_seq, received, refusals.in_minute(conn, clock.now())


def _reader(location: DbLocation) -> sqlite3.Connection:
    if is_postgres_url(location):
        from oncall_tui.store.pg.connection import open_connection

        return cast(sqlite3.Connection, open_connection(location, busy_timeout_ms=1000))
    uri = f"{Path(location).resolve().as_uri()}?mode=ro"
    return sqlite3.connect(uri, uri=True, timeout=1.0)


def _from_loopback(request: Request) -> bool:
    """Whether the client's address (the socket's peer: no forwarded header is trusted) is
    this machine's."""
    if request.client is None:
        return False
    try:
        address = ipaddress.ip_address(request.client.host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def _start_pollers(settings: Settings, ingest: IngestFn, clock: Clock) -> PollerGroup | None:
    """Pollers live and die with the app, so ``serve`` and the dashboard's receiver both poll."""
    if settings.pollers.alertmanager is None and settings.pollers.pagerduty is None:
        return None
    from oncall_tui.server.pollers.schedule import start_pollers  # httpx: only to poll

    return start_pollers(settings, ingest, clock)
