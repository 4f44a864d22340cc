"""News of the journal moving, for the readers that follow it (the exporter, the dashboard).

On PostgreSQL each write transaction that appends to the journal sends a ``NOTIFY`` carrying
its last ``seq`` (:func:`announce`), delivered by the commit; a reader ``LISTEN`` s
(:class:`JournalNews`) and, told of news, reads what is past its own last ``seq`` — so a lost
or coalesced notification costs nothing but a little delay, and after every (re)connection it
is told to catch up since it may have missed some. On SQLite there is no channel between
processes: readers look at ``max(seq)`` (one indexed read) at their own pace, and
:attr:`JournalNews.listening` is False.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from oncall_tui.paths import DbLocation, is_postgres_url

if TYPE_CHECKING:
    from oncall_tui.store.pg.listen import JournalListener

log = logging.getLogger(__name__)

Heard = Callable[[int | None], None]
"""Called from the listening thread with the new ``seq``, or None: catch up, some news may
have been missed (just connected, or reconnected)."""


def announce(conn: sqlite3.Connection, seq: int) -> None:
    """Inside the write transaction that appended up to ``seq``: tell the listeners on commit.
    Nothing to do on SQLite, which has no such channel."""
    send = getattr(conn, "announce", None)
    if send is not None:
        send(seq)


class JournalNews:
    """Listens for the journal's news on a PostgreSQL store and tells the subscribers.

    Inert on SQLite (``start`` does nothing; readers poll). The listening thread reconnects by
    itself after a lost connection; while it is not connected :attr:`listening` is False, and a
    reader falls back to looking for itself.
    """

    def __init__(self, location: DbLocation) -> None:
        self._location = location
        self._subscribers: list[Heard] = []
        self._lock = threading.Lock()
        self._listener: JournalListener | None = None
        self.latest = 0
        """The highest ``seq`` heard of (0: none yet)."""

    @property
    def listening(self) -> bool:
        return self._listener is not None and self._listener.connected.is_set()

    def start(self) -> None:
        if self._listener is None and is_postgres_url(self._location):
            from oncall_tui.store.pg.listen import JournalListener

            self._listener = JournalListener(str(self._location), self._tell)
            self._listener.start()

    def stop(self) -> None:
        if self._listener is not None:
            self._listener.stop()
            self._listener = None

    def subscribe(self, heard: Heard) -> Callable[[], None]:
        """Call ``heard`` on every piece of news; returns the unsubscribe function."""
        with self._lock:
            self._subscribers.append(heard)

        def unsubscribe() -> None:
            with self._lock:
                if heard in self._subscribers:
                    self._subscribers.remove(heard)

        return unsubscribe

    def _tell(self, seq: int | None) -> None:
        if seq is not None:
            self.latest = max(self.latest, seq)
        with self._lock:
            subscribers = list(self._subscribers)
        for heard in subscribers:
            try:
                heard(seq)
            except Exception:  # one subscriber's failure must not silence the others
                log.exception("a journal news subscriber failed")
