"""``serve`` answers for this machine: it publishes where, for the processes that would write.

See :mod:`oncall_tui.agents.local_api` for why and for the callers. This is the publishing side:
a thread that holds the lease while ``serve`` runs, renewing it every
:data:`~oncall_tui.store.lease.RENEW_EVERY_S` with the address and this run's secret, and
releases it on a clean stop (after a crash it runs out within the lease's TTL; a caller that
posts meanwhile gets no answer and does the work itself).
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading

from oncall_tui.agents.local_api import lease_name
from oncall_tui.paths import DbLocation
from oncall_tui.store.db import open_db
from oncall_tui.store.lease import RENEW_EVERY_S, Lease

log = logging.getLogger(__name__)

WILDCARDS = {"0.0.0.0": "127.0.0.1", "::": "::1", "": "127.0.0.1"}
"""Listening on every address, ``serve`` is reached from this machine on loopback."""


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def is_local_secret(expected: str | None, presented: str | None) -> bool:
    """Whether the bearer token presented is this run's secret (compared in constant time)."""
    return bool(expected and presented) and hmac.compare_digest(
        str(expected).encode(), str(presented).encode()
    )


def local_url(host: str, port: int) -> str:
    """The address a process on this machine reaches ``serve`` at, listening on ``host``."""
    host = WILDCARDS.get(host, host)
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


class LocalApiPublisher:
    """Holds this machine's lease (:func:`lease_name`) with the address and the secret while
    ``serve`` (or a ``hook-server``: :mod:`~oncall_tui.server.hook_server`) runs.

    ``serve`` takes the lease over from a ``hook-server``, which then gives way (:attr:`held`).
    """

    def __init__(self, db: DbLocation, url: str, secret: str, program: str = "serve") -> None:
        self._db = db
        preempts = ("hook-server",) if program == "serve" else ()
        details = {"url": url, "secret": secret}
        self._lease = Lease(lease_name(), program, details=details, preempts=preempts)
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.held = threading.Event()
        """Set once the lease was taken (or renewed) and cleared when another holds it."""
        self.tried = threading.Event()
        """Set after the first attempt, whatever its outcome."""

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="oncall-local-api", daemon=True)
        self._thread.start()

    def stop(self, timeout_s: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)
            self._thread = None

    def _run(self) -> None:
        conn = None
        failing = False
        while True:
            try:
                conn = conn or open_db(self._db)
                if self._lease.hold(conn):
                    self.held.set()
                else:
                    self.held.clear()
                failing = False
            except Exception:
                if not failing:  # once until it works again: it is retried every second
                    log.warning("could not publish the local address", exc_info=True)
                failing = True
                self.held.clear()
            self.tried.set()
            if self._stop.wait(RENEW_EVERY_S):
                break
        if conn is not None:
            try:
                self._lease.release(conn)
            except Exception:
                log.warning("could not release the local-api lease", exc_info=True)
            conn.close()
