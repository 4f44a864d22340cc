"""Keeping the receiver's WAL small under a stream of commits, beside the writer, and raising
the alarm when it cannot.

SQLite checkpoints by itself, inside the commit that crosses ``wal_autocheckpoint`` pages: that
commit then copies megabytes into the DB and syncs it while every sender waiting on the writer
waits too (one request in a hundred took 25 ms instead of 4 in a storm). So the receiver's
writer turns that off and this keeper checkpoints instead, on a thread and connection of its
own: PASSIVE checkpoints copy the WAL into the DB without holding up the writer, and once the
WAL is wholly copied the next write starts over at its head (``journal_size_limit`` then cuts
the file back).

It starts over only when no reader still uses the WAL's frames. While the dashboard and the
exporter read all the time that may not happen by chance: in a 50,000-alert storm the WAL
reached 765 MB. So once ``WAL_RESTART_BYTES`` of frames have piled up without a new start, the
keeper asks for a RESTART checkpoint, which waits briefly for the readers of old frames. A
RESTART also needs the DB to have no writer, which the receiver's writer, busy through a storm,
would hardly ever leave it: so the writer holds :meth:`WalKeeper.writing` around each of its
transactions and the keeper takes it for the restart (the writer waits those few milliseconds,
instead of SQLite's busy handler polling for a gap between its transactions).

A reader that never finishes (a crashed tool, a debugger, a forgotten ``sqlite3`` shell) keeps
every restart from completing, and the WAL then grows until the disk is full: that is the alarm.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from oncall_tui.paths import DbLocation, is_postgres_url

log = logging.getLogger(__name__)

CHECKPOINT_EVERY_S = 0.05
"""While commits come, a PASSIVE checkpoint at most this often (each copies what they wrote)."""
WAL_RESTART_BYTES = 16 * 1024 * 1024
RESTART_WAIT_MS = 50
"""How long a restart may hold the writer waiting for readers and other checkpoints..."""
WAL_URGENT_BYTES = 40 * 1024 * 1024
URGENT_RESTART_WAIT_MS = 1000
"""...and how long once the WAL nears the alarm: a bounded WAL is worth a slower answer."""
RESTART_EVERY_S = 0.2
"""At most this often, so a reader that stays does not hold the writer up again and again."""
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
    """The checkpointing thread (see the module docstring); the writer calls
    :meth:`after_commit` after its transactions and :meth:`close` before it closes the DB."""

    def __init__(self, db: Path, busy_timeout_ms: int) -> None:
        self._db = db
        self._busy_timeout_ms = busy_timeout_ms
        self._committed = threading.Event()
        self._turn = threading.Condition()
        self._writer_active = False
        self._restart_wanted = False
        self._closing = threading.Event()
        self._next_restart = 0.0
        self._failing_since: float | None = None
        self.alarm: str | None = None
        """Set while the WAL is pinned (see :func:`wal_alarm`); logged when raised and cleared."""
        self._thread = threading.Thread(target=self._run, name="oncall-checkpoint", daemon=True)
        self._thread.start()

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around each of the writer's transactions: a restart waits for the one under way, and
        the next one waits for the restart (a plain lock would let the writer take it back
        before the keeper wakes, all through a storm)."""
        with self._turn:
            while self._restart_wanted:
                self._turn.wait()
            self._writer_active = True
        try:
            yield
        finally:
            with self._turn:
                self._writer_active = False
                self._turn.notify_all()

    def after_commit(self) -> None:
        self._committed.set()

    def close(self) -> None:
        self._closing.set()
        self._committed.set()
        self._thread.join()

    def _run(self) -> None:
        conn: sqlite3.Connection | None = None
        try:
            while True:
                self._committed.wait()
                if self._closing.is_set():
                    return
                self._committed.clear()
                try:
                    conn = conn or sqlite3.connect(self._db, isolation_level=None)
                    self._checkpoint(conn)
                except sqlite3.Error as exc:  # a full disk, a DB being replaced: next time
                    log.debug("checkpointing %s failed: %s", self._db, exc)
                    if conn is not None:
                        conn.close()
                        conn = None
                self._closing.wait(CHECKPOINT_EVERY_S)
        finally:
            if conn is not None:
                conn.close()

    def _checkpoint(self, conn: sqlite3.Connection) -> None:
        conn.execute("PRAGMA busy_timeout = 0")
        _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        piled_up = frames * (page_size + 24)  # frames since the WAL last started over
        now = time.monotonic()
        if piled_up < WAL_RESTART_BYTES:
            self._failing_since = None
            self._set_alarm(None)
            return
        if now < self._next_restart:
            return
        self._next_restart = now + RESTART_EVERY_S
        if self._restart(
            conn, URGENT_RESTART_WAIT_MS if piled_up >= WAL_URGENT_BYTES else RESTART_WAIT_MS
        ):
            self._failing_since = None
            self._set_alarm(None)
            return
        if self._failing_since is None:
            self._failing_since = now
        pinned_for = now - self._failing_since
        size = max(piled_up, wal_bytes(self._db))
        self._set_alarm(wal_alarm(size, pinned_for) if pinned_for > 0 else None)

    def _restart(self, conn: sqlite3.Connection, wait_ms: int) -> bool:
        conn.execute(f"PRAGMA busy_timeout = {wait_ms}")
        with self._turn:
            self._restart_wanted = True
            while self._writer_active:
                self._turn.wait()
        try:
            busy, frames, done = conn.execute("PRAGMA wal_checkpoint(RESTART)").fetchone()
        except sqlite3.Error as exc:
            log.debug("WAL restart of %s failed: %s", self._db, exc)
            return False
        finally:
            with self._turn:
                self._restart_wanted = False
                self._turn.notify_all()
        return not busy and frames == done

    def _set_alarm(self, alarm: str | None) -> None:
        if alarm is not None and self.alarm is None:
            log.warning("%s (%s)", alarm, self._db)
        elif alarm is None and self.alarm is not None:
            log.warning("WAL of %s checkpointed again", self._db)
        self.alarm = alarm


class NoWal:
    """The keeper of a store without a WAL file (PostgreSQL, which checkpoints by itself)."""

    alarm: str | None = None

    @contextmanager
    def writing(self) -> Iterator[None]:
        yield

    def after_commit(self) -> None:
        pass

    def close(self) -> None:
        pass


def wal_keeper(location: DbLocation, busy_timeout_ms: int) -> WalKeeper | NoWal:
    """The keeper for the writer's store at ``location``."""
    if is_postgres_url(location):
        return NoWal()
    return WalKeeper(Path(location), busy_timeout_ms)
