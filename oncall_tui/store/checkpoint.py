"""Keeping the WAL small under a steady stream of commits, and raising the alarm when it cannot.

SQLite checkpoints by itself (PASSIVE, inside the commit that crosses ``wal_autocheckpoint``
pages), but the WAL file only starts over from its head when a writer finds it wholly copied
into the DB and no reader still using its frames. While the dashboard and the exporter read
all the time that rarely happens by chance: in a 50,000-alert storm the WAL reached 765 MB. So
the receiver's writer, between its transactions, asks for a RESTART checkpoint once the WAL
passes ``WAL_RESTART_BYTES``: it waits briefly for the readers of old frames to finish, and the
next write starts over at the head (``journal_size_limit`` then cuts the file back).

A reader that never finishes (a crashed tool, a debugger, a forgotten ``sqlite3`` shell) keeps
every restart from completing, and the WAL then grows until the disk is full: that is the alarm.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)

WAL_RESTART_BYTES = 16 * 1024 * 1024
RESTART_WAIT_MS = 50
"""How long a restart may hold the writer waiting for readers and other checkpoints..."""
WAL_URGENT_BYTES = 40 * 1024 * 1024
URGENT_RESTART_WAIT_MS = 1000
"""...and how long once the WAL nears the alarm: a bounded WAL is worth a slower answer."""
RESTART_EVERY_S = 0.2
"""At most this often, so a reader that stays does not hold the writer up every commit."""
WAL_ALARM_BYTES = 64 * 1024 * 1024
PINNED_ALARM_S = 60.0
"""Restarts failing this long mean a reader is stuck."""


def wal_bytes(db: Path) -> int:
    try:
        return db.with_name(db.name + "-wal").stat().st_size
    except OSError:
        return 0


def wal_alarm(size: int, pinned_for_s: float) -> str | None:
    """Why the WAL (``size`` bytes, restarts failing for ``pinned_for_s``) needs a human."""
    if size >= WAL_ALARM_BYTES or pinned_for_s >= PINNED_ALARM_S:
        return (
            f"WAL is {size / 1e6:.0f} MB and checkpoints have not completed for "
            f"{pinned_for_s:.0f} s: a process keeps a read transaction open on the DB"
        )
    return None


class WalKeeper:
    """Called by the one writer after each of its transactions (see the module docstring)."""

    def __init__(self, db: Path, busy_timeout_ms: int) -> None:
        self._db = db
        self._busy_timeout_ms = busy_timeout_ms
        self._next_try = 0.0
        self._failing_since: float | None = None
        self.alarm: str | None = None
        """Set while the WAL is pinned (see :func:`wal_alarm`); logged when raised and cleared."""

    def after_commit(self, conn: sqlite3.Connection) -> None:
        now = time.monotonic()
        if now < self._next_try:
            return
        self._next_try = now + RESTART_EVERY_S
        size = wal_bytes(self._db)
        if size < WAL_RESTART_BYTES:
            self._set_alarm(None)
            self._failing_since = None
            return
        if self._restart(
            conn, URGENT_RESTART_WAIT_MS if size >= WAL_URGENT_BYTES else RESTART_WAIT_MS
        ):
            self._failing_since = None
            self._set_alarm(None)
            return
        if self._failing_since is None:
            self._failing_since = now
        pinned_for = now - self._failing_since
        self._set_alarm(wal_alarm(size, pinned_for) if pinned_for > 0 else None)

    def _restart(self, conn: sqlite3.Connection, wait_ms: int) -> bool:
        conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            busy, frames, done = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.Error as exc:
            log.debug("WAL restart of %s failed: %s", self._db, exc)
            return False
        finally:
            conn.execute(f"PRAGMA busy_timeout = {self._busy_timeout_ms}")
        return not busy and frames == done

    def _set_alarm(self, alarm: str | None) -> None:
        if alarm is not None and self.alarm is None:
            log.warning("%s (%s)", alarm, self._db)
        elif alarm is None and self.alarm is not None:
            log.warning("WAL of %s checkpointed again", self._db)
        self.alarm = alarm
