"""The append-only journal and the live projection kept in step with it.

Every write goes through :class:`Writer.append`: the entry is inserted and folded into the
projection tables in the same transaction, so the tables never disagree with the journal.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from oncall_tui.core import projection
from oncall_tui.core.clock import Clock, SystemClock, from_iso, iso
from oncall_tui.core.journal import SIGNAL_JSON, JournalBody, JournalEntry, SignalRecorded
from oncall_tui.paths import DbLocation, is_postgres_url
from oncall_tui.store.db import BUSY_TIMEOUT_MS, open_db, write_transaction
from oncall_tui.store.journal_news import announce
from oncall_tui.store.tables import SqlTables

if TYPE_CHECKING:
    import sqlite_utils


MAX_HELD_ENTRIES = 256
"""Journal rows held back at most before they are inserted (one ``executemany``)."""


class Writer:
    """What one write transaction can do. Obtained from :meth:`Store.write`.

    Journal rows are held back and inserted together (:meth:`flush`): a storm's fold writes
    three rows per delivery, and one statement per row was a fifth of its time. Their ``seq``
    is assigned here, from the journal's high-water mark read once the transaction holds the
    write lock (``BEGIN IMMEDIATE``), so it is gap-free and in commit order just as SQLite's
    own would be. Nothing reads the journal inside a write transaction; whoever sets a
    savepoint flushes first, and whoever rolls back to it calls :meth:`forget`.
    """

    def __init__(self, conn: sqlite3.Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self.tables = SqlTables(conn, cache=True)  # see SqlTables: reads back its own writes
        self.last_seq: int | None = None
        """The seq of the last entry appended, announced on commit (the entries themselves are
        not kept: a batch's thousands would only weigh on the garbage collector)."""
        self._held: list[tuple[int, str, str, str, str]] = []
        self._next_seq: int | None = None
        self._when: datetime | None = None
        self._stamp = ""

    def append(
        self,
        body: JournalBody,
        actor: str,
        ts: datetime | None = None,
        *,
        text: str | None = None,
    ) -> JournalEntry:
        """Record ``body`` (its class names the kind) and fold it into the projection.

        ``text``: the body's journal text (:meth:`JournalBody.journal_text`), when the caller
        has it already: a batch's signals come spelled from the process that prepared them.
        """
        when = ts or self.clock.now()
        text, data = body.journal_text() if text is None else (text, None)
        seq = self._take_seq()
        kind = body.KIND.value
        if data is None and type(body) is SignalRecorded:
            self.tables.spelled_signals[seq] = text[SIGNAL_JSON]
        if when is not self._when:  # the entries of one moment share its text
            self._when, self._stamp = when, iso(when)
        self._held.append((seq, self._stamp, actor, kind, text))
        if len(self._held) >= MAX_HELD_ENTRIES:
            self._insert_held()
        # The entry keeps the typed body it was given: the fold reads it without decoding.
        entry = JournalEntry(seq, when, actor, kind, data, body)
        projection.apply(entry, self.tables)
        self.last_seq = seq
        return entry

    def flush(self) -> None:
        """Write what is held back: journal rows, then the projection's rows."""
        self._insert_held()
        self.tables.flush()

    def forget(self) -> None:
        """After a rollback to a savepoint: drop what was held back after it."""
        self._held.clear()
        self._next_seq = None
        self.tables.forget()

    def _take_seq(self) -> int:
        if self._next_seq is None:
            # AUTOINCREMENT's counter, since a seq once used is never used again.
            row = self.conn.execute(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'journal'), 0),"
                " coalesce((SELECT max(seq) FROM journal), 0))"
            ).fetchone()
            self._next_seq = int(row[0]) + 1
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def _insert_held(self) -> None:
        if self._held:
            self.conn.executemany(
                "INSERT INTO journal (seq, ts, actor, kind, body) VALUES (?, ?, ?, ?, ?)",
                self._held,
            )
            self._held.clear()


class Store:
    """The SQLite file: journal, raw deliveries and projections."""

    def __init__(
        self, conn: sqlite3.Connection, clock: Clock | None = None, path: Path | None = None
    ) -> None:
        self.conn = conn
        self.clock: Clock = clock or SystemClock()
        self.path = path
        """The SQLite file; None in memory and on PostgreSQL."""

    @classmethod
    def open(
        cls,
        location: DbLocation,
        clock: Clock | None = None,
        *,
        busy_timeout_ms: int = BUSY_TIMEOUT_MS,
    ) -> Store:
        """``busy_timeout_ms``: how long a write waits for another process's lock (an agent hook,
        which the agent waits for, asks for less than the default). A ``postgresql://`` URL
        opens the store on PostgreSQL instead of a SQLite file (team mode)."""
        conn = open_db(location, busy_timeout_ms=busy_timeout_ms)
        is_file = not is_postgres_url(location) and str(location) != ":memory:"
        return cls(conn, clock, Path(location) if is_file else None)

    @property
    def db(self) -> sqlite_utils.Database:
        """The same connection through sqlite-utils, for bulk work and ad-hoc inspection.

        Imported on first use: the agent hook opens the store on every prompt and must not pay
        for it.
        """
        import sqlite_utils

        return sqlite_utils.Database(self.conn)

    @contextmanager
    def write(self, *, durable: bool = False) -> Iterator[Writer]:
        with write_transaction(self.conn, durable=durable) as conn:
            writer = Writer(conn, self.clock)
            yield writer
            writer.flush()  # what the journal and the projection held back, before the commit
            if writer.last_seq is not None:
                announce(conn, writer.last_seq)

    def tables(self) -> SqlTables:
        """Read access to the projection (each query is its own short statement)."""
        return SqlTables(self.conn)

    def close(self) -> None:
        self.conn.close()

    # --- reading the journal ------------------------------------------------------------

    def max_seq(self) -> int:
        row = self.conn.execute("SELECT coalesce(max(seq), 0) FROM journal").fetchone()
        return int(row[0])

    def entries(
        self, after: int = 0, until_seq: int | None = None, batch: int = 5000
    ) -> Iterator[JournalEntry]:
        """Journal entries in order, read in short batches (no long-lived read transaction)."""
        last = after
        while True:
            limit_clause = "" if until_seq is None else f" AND seq <= {int(until_seq)}"
            rows = self.conn.execute(
                f"SELECT seq, ts, actor, kind, body FROM journal WHERE seq > ?{limit_clause}"
                " ORDER BY seq LIMIT ?",
                (last, batch),
            ).fetchall()
            if not rows:
                return
            for seq, ts, actor, kind, body in rows:
                yield JournalEntry(seq, from_iso(ts), actor, kind, json.loads(body))
            last = rows[-1][0]
