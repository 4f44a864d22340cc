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
from oncall_tui.core.journal import JournalBody, JournalEntry
from oncall_tui.store.db import BUSY_TIMEOUT_MS, connect, write_transaction
from oncall_tui.store.tables import SqlTables

if TYPE_CHECKING:
    import sqlite_utils


class Writer:
    """What one write transaction can do. Obtained from :meth:`Store.write`."""

    def __init__(self, conn: sqlite3.Connection, clock: Clock) -> None:
        self.conn = conn
        self.clock = clock
        self.tables = SqlTables(conn, cache=True)  # see SqlTables: reads back its own writes
        self.appended: list[JournalEntry] = []

    def append(self, body: JournalBody, actor: str, ts: datetime | None = None) -> JournalEntry:
        """Record ``body`` (its class names the kind) and fold it into the projection."""
        when = ts or self.clock.now()
        data = body.to_json()
        text = json.dumps(data, separators=(",", ":"), sort_keys=True)
        cursor = self.conn.execute(
            "INSERT INTO journal (ts, actor, kind, body) VALUES (?, ?, ?, ?)",
            (iso(when), actor, body.KIND.value, text),
        )
        seq = cursor.lastrowid
        assert seq is not None
        # The entry keeps the typed body it was given: the fold reads it without decoding.
        entry = JournalEntry(seq, when, actor, body.KIND.value, data, body)
        projection.apply(entry, self.tables)
        self.appended.append(entry)
        return entry


class Store:
    """The SQLite file: journal, raw deliveries and projections."""

    def __init__(
        self, conn: sqlite3.Connection, clock: Clock | None = None, path: Path | None = None
    ) -> None:
        self.conn = conn
        self.clock: Clock = clock or SystemClock()
        self.path = path

    @classmethod
    def open(
        cls, path: Path | str, clock: Clock | None = None, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> Store:
        """``busy_timeout_ms``: how long a write waits for another process's lock (an agent hook,
        which the agent waits for, asks for less than the default)."""
        conn = connect(path, busy_timeout_ms=busy_timeout_ms)
        return cls(conn, clock, None if str(path) == ":memory:" else Path(path))

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
            writer.tables.flush()  # what the projection held back, before the commit

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
