"""The thread that ``LISTEN`` s for the journal's news on PostgreSQL, and reconnects."""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable

from oncall_tui.store.pg.connection import PgConnection, open_connection

log = logging.getLogger(__name__)

WAIT_S = 0.25
"""How long one wait for news lasts: how soon a stop is seen."""
RETRY_S = 1.0
"""After a lost connection, the wait before connecting again."""


class JournalListener:
    """Tells ``heard`` each new ``seq`` (None after each connection: catch up)."""

    def __init__(self, url: str, heard: Callable[[int | None], None]) -> None:
        self._url = url
        self._heard = heard
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.connected = threading.Event()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="oncall-journal-news", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        failure = ""
        while not self._stop.is_set():
            conn: PgConnection | None = None
            try:
                conn = open_connection(self._url, busy_timeout_ms=1000)
                conn.listen()
                self.connected.set()
                failure = ""
                self._heard(None)
                while not self._stop.is_set():
                    for payload in conn.news(WAIT_S):
                        self._heard(_seq(payload))
            except sqlite3.Error as exc:
                if str(exc) != failure:  # once until it changes, not at every retry
                    log.warning("listening for journal news failed (%s); retrying", exc)
                failure = str(exc)
            finally:
                self.connected.clear()
                if conn is not None:
                    conn.close()
            self._stop.wait(RETRY_S)


def _seq(payload: str) -> int | None:
    """A notification's ``seq``; None for anything else (then the reader just catches up)."""
    return int(payload) if payload.isdigit() else None
