"""``oncall-tui hook-server``: this machine's hook writes and decisions answered without ``serve``.

A hook that must write (a session starts, a file is touched for the first time, a commit) costs a
fresh process ~0.3 s of imports (pydantic, the models, the store) before any work; a running
``serve`` has them loaded and answers in tens of milliseconds
(:mod:`~oncall_tui.agents.local_api`). When no ``serve`` runs, the first such hook starts this
process in the background (:mod:`~oncall_tui.agents.hook.start_server`), as ``gpg`` starts its
agent, and the hooks after it hand their writes here. It answers only what the local API does
(the session routes and the CLI's decisions, behind the same checks as ``serve``), only on
loopback, and it keeps out of the way:

- it exits after ``idle_s`` without a request, and when its DB is gone;
- a ``serve`` that starts takes the machine's lease from it (:class:`~oncall_tui.store.lease.Lease`
  ``preempts``), and it exits once it sees that, so there is one answerer, the one the engineer
  started;
- it never starts when another process already answers for the DB.

It receives no webhooks, polls nothing and runs no exporter: that is ``serve``'s work, started
on purpose. A decision it takes is exported once answered, as the command would have.
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from starlette.applications import Starlette
from starlette.types import ASGIApp, Receive, Scope, Send

from oncall_tui.config import ServerSettings, Settings
from oncall_tui.core.clock import Clock
from oncall_tui.paths import DbLocation, is_postgres_url
from oncall_tui.server.decisions_routes import routes as decision_routes
from oncall_tui.server.door import Door
from oncall_tui.server.local_api import LocalApiPublisher, local_url, new_secret
from oncall_tui.server.runner import AnnouncingServer, bind_socket, uvicorn_config
from oncall_tui.server.sessions_routes import routes as session_routes
from oncall_tui.server.webhook import answer
from oncall_tui.store.lease import RENEW_EVERY_S

PROGRAM = "hook-server"
LOOPBACK = "127.0.0.1"


class HookServerRefusedError(RuntimeError):
    """Another process already answers this machine's hooks for the DB."""


def run_hook_server(settings: Settings, clock: Clock, *, idle_s: float) -> str:
    """Answer on loopback until idle, superseded or stopped; returns why it stopped.

    Raises :class:`HookServerRefusedError` when the machine's lease is held by another live
    process (a ``serve``, or another hook server started by a hook at the same moment).
    """
    loopback = ServerSettings(host=LOOPBACK, port=0)
    settings = settings.model_copy(update={"server": loopback})
    secret = new_secret()
    sock = bind_socket(loopback)
    with sock:
        port = sock.getsockname()[1]
        publisher = LocalApiPublisher(settings.db, local_url(LOOPBACK, port), secret, PROGRAM)
        publisher.start()
        try:
            publisher.tried.wait(10)
            if not publisher.held.is_set():
                raise HookServerRefusedError("another process answers this machine's hooks")
            app = _ActivityApp(Door(loopback), _routes(settings, clock, secret))
            server = AnnouncingServer(
                uvicorn_config(app, own_logging=True, head_timeout_s=loopback.read_timeout_s),
                on_started=lambda: None,
                handle_signals=True,
            )
            watch = _Watch(server, app, publisher, settings.db, idle_s)
            watch.start()
            server.run(sockets=[sock])
            watch.stop()
            return watch.reason or "stopped"
        finally:
            publisher.stop()


def _routes(settings: Settings, clock: Clock, secret: str) -> Starlette:
    return Starlette(
        routes=[
            *session_routes(settings, clock, secret),
            *decision_routes(settings, clock, secret, export_after=True),
        ]
    )


class _ActivityApp:
    """The door's checks (Host, Origin: as ``serve``'s), then the routes; notes each request's
    time, so that idleness is measured from the last one."""

    def __init__(self, door: Door, routes: ASGIApp) -> None:
        self.door = door
        self.routes = routes
        self.last_request = time.monotonic()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.last_request = time.monotonic()
            refused = self.door.refusal(scope["headers"])
            if refused is not None:
                status, reason = refused
                await answer(send, status, {"error": reason}, [(b"connection", b"close")])
                return
        await self.routes(scope, receive, send)


class _Watch(threading.Thread):
    """Stops the server once it is idle, superseded by ``serve``, or its DB is gone."""

    def __init__(
        self,
        server: AnnouncingServer,
        app: _ActivityApp,
        publisher: LocalApiPublisher,
        db: DbLocation,
        idle_s: float,
    ) -> None:
        super().__init__(name="oncall-hook-server-watch", daemon=True)
        self.server = server
        self.app = app
        self.publisher = publisher
        self.db = db
        self.idle_s = idle_s
        self.reason: str | None = None
        self._stopping = threading.Event()

    def stop(self) -> None:
        self._stopping.set()
        self.join(5)

    def run(self) -> None:
        while not self._stopping.wait(RENEW_EVERY_S / 2):
            reason = self._why_stop()
            if reason is not None:
                self.reason = reason
                self.server.should_exit = True
                return

    def _why_stop(self) -> str | None:
        if time.monotonic() - self.app.last_request >= self.idle_s:
            return f"idle for {self.idle_s:g} s"
        if not self.publisher.held.is_set():
            return "another process answers for the DB now"
        if not is_postgres_url(self.db) and not Path(self.db).exists():
            return "the DB is gone"
        return None
