"""Serving the receiver: headless (``oncall-tui serve``) or in a thread of the dashboard.

We bind the listening socket ourselves before uvicorn starts, so "address in use" is an ordinary
``OSError`` the CLI turns into one line, and port 0 is resolved before anyone asks for it.
"""

from __future__ import annotations

import contextlib
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from types import FrameType

import uvicorn
from starlette.types import ASGIApp

from oncall_tui.config import ServerSettings, Settings
from oncall_tui.core.clock import Clock
from oncall_tui.paths import display_db
from oncall_tui.server.app import ReceiverApp, create_app
from oncall_tui.server.local_api import LocalApiPublisher, local_url, new_secret
from oncall_tui.server.protocol import with_head_deadline
from oncall_tui.store.db import BUSY_TIMEOUT_MS, Synchronous

GRACEFUL_SHUTDOWN_S = 15
"""Upper bound on draining at shutdown; in-flight bodies time out sooner (read timeout)."""


class BindRefusedError(RuntimeError):
    """Listening beyond loopback while no source has credentials: anyone could post alerts."""


def check_bind(settings: Settings) -> None:
    """Refuse a non-loopback address unless at least one source is authenticated.

    Sources without credentials are still refused per delivery (the Ingestor's
    ``require_credentials``); this catches the configuration where every delivery would be.
    """
    server = settings.server
    if server.is_loopback or any(s.auth_kinds for s in settings.sources.values()):
        return
    raise BindRefusedError(
        f"refusing to listen on {server.host}: no source has credentials configured, so anyone "
        "who can reach it could post alerts. Configure a token or secret for the sources you use "
        "(e.g. ONCALL_TUI_SOURCES__ALERTMANAGER__TOKEN) or bind to 127.0.0.1."
    )


def run_server(
    settings: Settings, clock: Clock, *, on_started: Callable[[], None] | None = None
) -> None:
    """Serve until SIGTERM or SIGINT, then finish in-flight deliveries and return.

    ``on_started`` runs once requests are answered (the DB is open and migrated by then). While
    it serves, it answers this machine's hooks and CLI decisions too
    (:mod:`~oncall_tui.server.local_api`).
    """
    secret = new_secret()
    sock, app = _prepare(settings, clock, local_secret=secret)
    port = sock.getsockname()[1]
    url = _url(settings.server.host, port)
    publisher = LocalApiPublisher(settings.db, local_url(settings.server.host, port), secret)

    def announce() -> None:
        if on_started is not None:
            on_started()
        publisher.start()
        print(f"oncall-tui receiving on {url} (db: {display_db(settings.db)})", flush=True)

    config = uvicorn_config(app, own_logging=True, head_timeout_s=settings.server.read_timeout_s)
    server = AnnouncingServer(config, on_started=announce, handle_signals=True)
    try:
        with sock:
            server.run(sockets=[sock])
    finally:
        publisher.stop()


class ReceiverThread:
    """The receiver on a background thread of this process, with its own event loop.

    The dashboard runs it beside the TUI; tests run it against a DB in a temporary directory.
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        read_timeout_s: float | None = None,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
        synchronous: Synchronous = "FULL",
    ) -> None:
        """``synchronous``: what an acknowledged delivery survives (FULL: a power cut)."""
        self.settings = settings
        self.clock = clock
        self.read_timeout_s = read_timeout_s
        self.busy_timeout_ms = busy_timeout_ms
        self.synchronous: Synchronous = synchronous
        self._server: AnnouncingServer | None = None
        self._thread: threading.Thread | None = None

    def start(self, timeout_s: float = 10.0) -> int:
        """Bind, serve, and return the port once requests are answered (port 0 picks one)."""
        if self._thread is not None:
            raise RuntimeError("receiver already started")
        sock, app = _prepare(
            self.settings,
            self.clock,
            read_timeout_s=self.read_timeout_s,
            busy_timeout_ms=self.busy_timeout_ms,
            synchronous=self.synchronous,
        )
        ready = threading.Event()
        # The host process owns logging: uvicorn's stderr handlers would draw over the TUI.
        head_timeout_s = (
            self.settings.server.read_timeout_s
            if self.read_timeout_s is None
            else self.read_timeout_s
        )
        config = uvicorn_config(app, own_logging=False, head_timeout_s=head_timeout_s)
        server = AnnouncingServer(config, on_started=ready.set, handle_signals=False)

        def serve() -> None:
            with sock:
                server.run(sockets=[sock])

        self._server = server
        self._thread = threading.Thread(target=serve, name="oncall-receiver", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout_s
        while not ready.wait(0.05):
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the receiver did not start; see the log for why")
        port: int = sock.getsockname()[1]
        return port

    def stop(self, timeout_s: float = GRACEFUL_SHUTDOWN_S + 5) -> None:
        """Stop accepting, let in-flight deliveries commit, close the DB connection."""
        if self._server is None or self._thread is None:
            return
        self._server.should_exit = True
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            raise RuntimeError("receiver thread did not stop")
        self._server = self._thread = None


class AnnouncingServer(uvicorn.Server):
    """uvicorn, telling us when it serves, and exiting cleanly on a signal.

    Stock uvicorn re-raises SIGTERM/SIGINT after its graceful shutdown, so the process dies of
    the signal (or a KeyboardInterrupt traceback); ``serve`` should instead return and exit 0.
    """

    def __init__(
        self, config: uvicorn.Config, *, on_started: Callable[[], None], handle_signals: bool
    ) -> None:
        super().__init__(config)
        self._on_started = on_started
        self._handle_signals = handle_signals

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self._on_started()

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if not self._handle_signals:
            yield
            return
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self._exit_on_signal) for sig in signals}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _exit_on_signal(self, sig: int, frame: FrameType | None) -> None:
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True  # a second Ctrl+C stops waiting for in-flight requests
        self.should_exit = True


def _prepare(
    settings: Settings,
    clock: Clock,
    *,
    read_timeout_s: float | None = None,
    busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    synchronous: Synchronous = "FULL",
    local_secret: str | None = None,
) -> tuple[socket.socket, ReceiverApp]:
    """Check, bind, then open the DB: a refused or busy address leaves no connection behind."""
    check_bind(settings)
    sock = bind_socket(settings.server)
    try:
        app = create_app(
            settings,
            clock,
            read_timeout_s=read_timeout_s,
            busy_timeout_ms=busy_timeout_ms,
            synchronous=synchronous,
            local_secret=local_secret,
        )
    except BaseException:
        sock.close()
        raise
    return sock, app


def uvicorn_config(app: ASGIApp, *, own_logging: bool, head_timeout_s: float) -> uvicorn.Config:
    return uvicorn.Config(
        app,
        http=with_head_deadline(head_timeout_s),
        lifespan="on",
        log_level="warning",
        log_config=uvicorn.config.LOGGING_CONFIG if own_logging else None,
        access_log=False,
        server_header=False,
        proxy_headers=False,  # nothing reads the client's address: no X-Forwarded-* to trust
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S,
    )


def bind_socket(server: ServerSettings) -> socket.socket:
    # proto must be IPPROTO_TCP, not the 0 socket.create_server leaves: asyncio only sets
    # TCP_NODELAY on sockets that say TCP, and without it every response waits out the
    # client's delayed ACK (~40 ms), since uvicorn writes headers and body separately.
    family = socket.AF_INET6 if ":" in server.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((server.host, server.port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def _url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
