"""A PostgreSQL connection that the store uses as it uses a ``sqlite3.Connection``.

The store issues SQLite statements through ``execute``/``executemany`` and runs its own
transactions (``BEGIN IMMEDIATE`` ... ``COMMIT``), as on a SQLite connection opened with
``isolation_level=None``. Here:

- statements are translated once per text (:mod:`oncall_tui.store.pg.translate`);
- ``BEGIN IMMEDIATE`` is ``BEGIN`` plus a transaction-scoped advisory lock on the journal: one
  writer at a time across every process on the database, as SQLite's write lock, so the
  writer's ``seq`` (the high-water mark read under the lock, plus one) stays gap-free and in
  commit order. The lock is released by the commit itself, after the rows are visible. Both go
  to the server in one round trip;
- inside a transaction, what needs no answer is sent with the next statement that does, in one
  round trip (:mod:`oncall_tui.store.pg.pipelined`): a write that returns no rows while no
  savepoint is open, ``SAVEPOINT`` and ``RELEASE``; its row count, when read, is waited for.
  A failure of such a write still comes out before the transaction ends (at the latest from
  ``COMMIT``) and fails it, as any failed statement fails a PostgreSQL transaction; inside a
  savepoint, which a caller may roll back to and go on, every statement is answered where it
  is issued. ``executemany`` of an ``INSERT`` inserts many rows per statement;
- the ``PRAGMA`` s the store reads and sets have their counterparts: ``user_version`` is a
  one-row table, ``busy_timeout`` is ``lock_timeout`` (how long a writer waits for the lock),
  ``synchronous`` is always FULL (every commit is flushed);
- errors come out as the ``sqlite3`` exception of the same DB-API class, which is what the
  store's callers tell apart (a lock timeout is an ``OperationalError`` on both).
"""

from __future__ import annotations

import functools
import json
import re
import sqlite3
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from types import TracebackType
from typing import Any

import psycopg
from psycopg import errors
from psycopg.abc import Buffer
from psycopg.adapt import Loader
from psycopg.pq import ExecStatus, TransactionStatus
from psycopg.types.json import set_json_loads

from oncall_tui.store.pg.pipelined import Deferred, Parameters, inserts
from oncall_tui.store.pg.translate import translate

LOCK_NAMESPACE = 0x0C_A11
"""The first key of the journal's advisory lock (the second is the schema's): ours alone."""

VERSION_TABLE = "oncall_schema_version"
"""``PRAGMA user_version``'s counterpart: the schema version, one row."""

_PRAGMA = re.compile(r"\s*PRAGMA\s+(\w+)\s*(?:=\s*(\S+?))?\s*;?\s*$", re.IGNORECASE)
_TRANSACTION_WORDS = ("BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE")
_FULL = 2
"""``PRAGMA synchronous`` as SQLite numbers it: FULL."""
_FILE_PRAGMAS = frozenset({"journal_mode", "journal_size_limit", "wal_autocheckpoint"})
"""Settings of SQLite's own file and WAL, set by a caller that tunes it: nothing to do here."""


class PgCursor:
    """A statement's result as ``sqlite3.Cursor`` offers it: rows, ``rowcount``,
    ``lastrowid``."""

    def __init__(
        self,
        rows: list[tuple[Any, ...]],
        rowcount: int,
        lastrowid: int | None = None,
        deferred: Sequence[Deferred] = (),
    ) -> None:
        self._rows = rows
        self._next = 0
        self._rowcount = rowcount
        self.lastrowid = lastrowid
        self._deferred = deferred

    @property
    def rowcount(self) -> int:
        """As ``sqlite3``'s; for a write sent with a later statement, waited for on first read."""
        if self._deferred:
            self._rowcount = sum(statement.rowcount() for statement in self._deferred)
            self._deferred = ()
        return self._rowcount

    def fetchone(self) -> tuple[Any, ...] | None:
        if self._next >= len(self._rows):
            return None
        row = self._rows[self._next]
        self._next += 1
        return row

    def fetchall(self) -> list[tuple[Any, ...]]:
        rows = self._rows[self._next :]
        self._next = len(self._rows)
        return rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        while (row := self.fetchone()) is not None:
            yield row


class PgConnection:
    """See the module's docstring. One connection, used by one thread at a time."""

    backend = "postgresql"

    def __init__(self, conn: psycopg.Connection[Any], busy_timeout_ms: int) -> None:
        self._conn = conn
        self._busy_timeout_ms = busy_timeout_ms
        # One journal per schema: the lock is the schema's (two stores in two schemas of one
        # database do not wait for each other).
        row = conn.execute("SELECT hashtext(current_schema())").fetchone()
        self._lock_key = int(row[0]) if row else 0
        self._cursor = conn.cursor()
        """For every statement answered at once (its rows are read before the next one): a
        cursor made per statement was a tenth of the statement's time here."""
        self._deferred: list[Deferred] = []
        """Sent with the next statement that needs an answer, in this order."""
        self._savepoints: list[str] = []
        """The savepoints open in this transaction, innermost last."""
        self._set_lock_timeout(busy_timeout_ms)

    # --- the sqlite3.Connection subset ---------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return self._conn.info.transaction_status is not TransactionStatus.IDLE

    def execute(self, sql: str, parameters: Sequence[Any] | Mapping[str, Any] = ()) -> PgCursor:
        special = self._special(sql)
        if special is not None:
            return special
        translated = translate(sql)
        if isinstance(parameters, Mapping):
            values = tuple(parameters[name] for name in translated.names)
        else:
            values = tuple(parameters)
        if translated.json_lists:
            values = tuple(
                json.loads(v) if i in translated.json_lists else v for i, v in enumerate(values)
            )
        if translated.typed_by_parameters:
            numbers = frozenset(i for i, v in enumerate(values) if _is_number(v))
            if numbers:
                translated = translate(sql, numbers)
        if translated.writes_only and self._may_defer(write=True):
            return PgCursor([], -1, deferred=[self._defer(translated.sql, values, many=False)])
        with _as_sqlite_errors():
            cursor = self._answer(translated.sql, values or None)
            # Not cursor.description, which builds a column object per column for each call.
            result = cursor.pgresult
            rows = cursor.fetchall() if result and result.status == ExecStatus.TUPLES_OK else []
            if translated.returns_key:
                key = int(rows[0][0]) if rows else None
                return PgCursor([], cursor.rowcount, key)
            return PgCursor(rows, cursor.rowcount)

    def executemany(self, sql: str, seq_of_parameters: Iterable[Sequence[Any]]) -> PgCursor:
        batch = [tuple(p) for p in seq_of_parameters]
        if not batch:
            return PgCursor([], 0)
        translated = translate(sql)
        if translated.json_lists:
            raise sqlite3.NotSupportedError(f"a JSON list in executemany: {sql}")
        statements = [
            self._defer(text, values, many=many)
            for text, values, many in inserts(translated, batch)
        ]
        if not (translated.writes_only and self._may_defer(write=True)):
            self._send_deferred()  # answered here, as SQLite's are
        return PgCursor([], -1, deferred=statements)

    def execute_native(self, sql: str) -> None:
        """PostgreSQL's own SQL, untranslated (what SQLite has no words for: a function)."""
        self._send_deferred()
        with _as_sqlite_errors():
            self._conn.execute(sql)

    def close(self) -> None:
        self._deferred.clear()  # never sent: the open transaction ends with the connection
        self._conn.close()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    # --- statements sent ahead of the next answer ---------------------------------------

    def _may_defer(self, *, write: bool) -> bool:
        """Inside a transaction that nothing failed so far; a write, outside any savepoint."""
        if write and self._savepoints:
            return False
        return self._conn.pgconn.transaction_status == TransactionStatus.INTRANS

    def _defer(self, sql: str, values: Parameters, *, many: bool) -> Deferred:
        statement = Deferred(self._send_deferred, sql, values, many)
        self._deferred.append(statement)
        return statement

    def _answer(
        self, sql: str, values: Sequence[Any] | None = None, *, prepare: bool | None = None
    ) -> psycopg.Cursor[Any]:
        """Run ``sql`` and wait for its answer, what was deferred sent ahead of it in the same
        round trip; the first failure among them is raised. ``prepare``: psycopg's (None: once
        it has seen the text a few times)."""
        if not self._deferred:
            return self._cursor.execute(sql, values, prepare=prepare)
        queued, self._deferred = self._deferred, []
        with self._conn.pipeline():
            for statement in queued:
                statement.send(self._conn)
            return self._cursor.execute(sql, values, prepare=prepare)

    def _send_deferred(self, only: Deferred | None = None) -> None:
        """Send what was deferred and wait for its answers (``only``: unless it was dropped)."""
        if not self._deferred or (only is not None and only not in self._deferred):
            return
        queued, self._deferred = self._deferred, []
        with _as_sqlite_errors(), self._conn.pipeline():
            for statement in queued:
                statement.send(self._conn)

    # --- what SQLite does differently ----------------------------------------------------

    def _special(self, sql: str) -> PgCursor | None:
        """Transaction control and pragmas, which translate to more (or less) than SQL."""
        words = _control_words(sql)
        if words is None:
            return None
        if not words:
            return PgCursor([], -1)
        first = words[0].upper()
        if first == "PRAGMA":
            return self._pragma(sql)
        if first in ("SAVEPOINT", "RELEASE") or (first == "ROLLBACK" and len(words) > 1):
            # ROLLBACK TO a savepoint, SAVEPOINT and RELEASE mean the same on both.
            return self._savepoint(first, words[-1].lower(), sql)
        self._savepoints.clear()
        if first == "BEGIN":
            self._send_deferred()
            immediate = len(words) > 1 and words[1].upper() in ("IMMEDIATE", "EXCLUSIVE")
            self._begin(immediate)
            return PgCursor([], -1)
        if first == "ROLLBACK":
            self._deferred.clear()  # what was never sent needs no undoing
        return self._plain("COMMIT" if first == "END" else sql)

    def _begin(self, immediate: bool) -> None:
        # One round trip: the simple query protocol takes both statements at once.
        lock = f"; SELECT pg_advisory_xact_lock({LOCK_NAMESPACE}, {self._lock_key})"
        try:
            with _as_sqlite_errors():
                self._conn.execute(f"BEGIN{lock if immediate else ''}")
        except BaseException:
            # As SQLite's BEGIN IMMEDIATE that timed out: no transaction is left open.
            if self.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def _savepoint(self, first: str, name: str, sql: str) -> PgCursor:
        """A savepoint set, released or rolled back to: the first two without a round trip of
        their own where nothing can fail them (a sound transaction, a savepoint that exists)."""
        if first == "SAVEPOINT":
            # What was deferred before it is answered here, before the caller's recovery
            # (a rollback to this savepoint) could be asked to undo it.
            deferred = not self._deferred and self._may_defer(write=False)
            self._savepoints.append(name)
        elif first == "RELEASE":
            deferred = name in self._savepoints and self._may_defer(write=False)
            self._close_savepoints(name, keep=False)
        else:
            deferred = False
            self._close_savepoints(name, keep=True)
        if deferred:
            self._defer(sql, (), many=False)
            return PgCursor([], -1)
        return self._plain(sql)

    def _close_savepoints(self, name: str, *, keep: bool) -> None:
        """Forget the savepoints inside ``name`` (and ``name`` itself unless ``keep``)."""
        if name in self._savepoints:
            index = len(self._savepoints) - 1 - self._savepoints[::-1].index(name)
            del self._savepoints[index + (1 if keep else 0) :]

    def _plain(self, sql: str) -> PgCursor:
        # Never prepared: a COMMIT has no plan to keep, and psycopg preparing one costs a round
        # trip of its own in whichever transaction its count comes due (or its turn comes back
        # after an eviction from the cache of prepared statements).
        with _as_sqlite_errors():
            self._answer(sql, prepare=False)
        return PgCursor([], -1)

    def _pragma(self, sql: str) -> PgCursor:
        match = _PRAGMA.match(sql)
        if match is None:
            raise sqlite3.OperationalError(f"not understood on PostgreSQL: {sql}")
        name, value = match.group(1).lower(), match.group(2)
        if name == "user_version":
            if value is None:
                return self.execute(f"SELECT version FROM {VERSION_TABLE}")
            self.execute(f"UPDATE {VERSION_TABLE} SET version = ?", (int(value),))
            return PgCursor([], 1)
        if name == "busy_timeout":
            if value is None:
                return PgCursor([(self._busy_timeout_ms,)], -1)
            self._set_lock_timeout(int(value))
            return PgCursor([], -1)
        if name in _FILE_PRAGMAS and value is not None:
            return PgCursor([], -1)
        if name == "synchronous":
            # Every commit is flushed (synchronous_commit is on): FULL, whatever is asked.
            return PgCursor([] if value is not None else [(_FULL,)], -1)
        raise sqlite3.OperationalError(f"PRAGMA {name} has no meaning on PostgreSQL")

    def _set_lock_timeout(self, milliseconds: int) -> None:
        self._busy_timeout_ms = milliseconds
        with _as_sqlite_errors():
            self._conn.execute(f"SET lock_timeout = {int(milliseconds)}")

    # --- news of the journal (LISTEN/NOTIFY) ---------------------------------------------

    @property
    def journal_channel(self) -> str:
        """The channel that carries this schema's new journal ``seq`` s (one per schema, as
        its journal lock: a channel is the database's, not the schema's)."""
        return f"oncall_journal_{self._lock_key & 0xFFFFFFFF:08x}"

    def announce(self, seq: int) -> None:
        """Tell the listeners that the journal reached ``seq``. Inside a transaction it is
        sent by the commit itself, after the rows are visible (never by a rollback); it needs
        no answer, so it goes with the next statement (the commit), not a round trip of its own."""
        sql, values = "SELECT pg_notify($1, $2)", (self.journal_channel, str(seq))
        if self._may_defer(write=False):
            self._defer(sql, values, many=False)
            return
        with _as_sqlite_errors():
            self._answer(sql, values)

    def listen(self) -> None:
        """Subscribe this connection to :attr:`journal_channel`."""
        with _as_sqlite_errors():
            self._conn.execute(f'LISTEN "{self.journal_channel}"')

    def news(self, timeout_s: float) -> Iterator[str]:
        """The payloads heard within ``timeout_s`` (at least one wait; ends after it)."""
        with _as_sqlite_errors():
            for notice in self._conn.notifies(timeout=timeout_s):
                yield notice.payload


@functools.lru_cache(maxsize=1024)
def _control_words(sql: str) -> tuple[str, ...] | None:
    """The words of a pragma or of transaction control (none for a blank statement), None for
    any other statement: asked of every statement, so remembered by its text."""
    first = sql.split(maxsplit=1)[:1]
    if first and first[0].upper() not in ("PRAGMA", *_TRANSACTION_WORDS):
        return None
    return tuple(sql.split())


def _is_number(value: object) -> bool:
    """A parameter SQLite would compare as a number (a list: all of its items are)."""
    if isinstance(value, list):
        return bool(value) and all(_is_number(item) for item in value)
    return isinstance(value, int | float) and not isinstance(value, bool)


def _sqlite_json_value(text: str | bytes) -> Any:
    """A JSON value as SQLite's ``json_extract`` returns it: numbers and strings as such,
    ``true``/``false`` as 1/0, objects and arrays as (minified) JSON text."""
    value = json.loads(text)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"))
    return value


class _NumberLoader(Loader):
    """``numeric`` (a JSON number cast for a comparison) as SQLite's: int when whole."""

    def load(self, data: Buffer) -> int | float:
        number = Decimal(bytes(data).decode())
        return int(number) if number == number.to_integral_value() else float(number)


class _as_sqlite_errors:  # noqa: N801 (used as a context manager, like contextlib's)
    """psycopg's exceptions as the ``sqlite3`` ones of the same DB-API class."""

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None or not isinstance(exc, psycopg.Error):
            return
        for theirs, ours in _ERRORS:
            if isinstance(exc, theirs):
                raise ours(str(exc)) from exc


_ERRORS: tuple[tuple[type[psycopg.Error], type[sqlite3.Error]], ...] = (
    (errors.IntegrityError, sqlite3.IntegrityError),
    (errors.ProgrammingError, sqlite3.ProgrammingError),
    (errors.DataError, sqlite3.DataError),
    (errors.NotSupportedError, sqlite3.NotSupportedError),
    (errors.InternalError, sqlite3.InternalError),
    (errors.OperationalError, sqlite3.OperationalError),
    (errors.InterfaceError, sqlite3.InterfaceError),
    (errors.DatabaseError, sqlite3.DatabaseError),
    (psycopg.Error, sqlite3.Error),
)
"""Most specific first (psycopg's classes nest as DB-API's do)."""


def open_connection(url: str, *, busy_timeout_ms: int) -> PgConnection:
    """A connection in autocommit mode: the store runs its own transactions, and a read outside
    one is its own short statement (no transaction left open pinning old rows)."""
    try:
        conn = psycopg.connect(url, autocommit=True, cursor_factory=psycopg.RawCursor)
    except psycopg.Error as exc:
        raise sqlite3.OperationalError(f"cannot connect to PostgreSQL: {exc}") from exc
    # READ COMMITTED whatever the server's default: each statement sees what committed before
    # it, so a writer that waited for the lock reads the seq its predecessor committed.
    conn.execute("SET default_transaction_isolation = 'read committed'")
    set_json_loads(_sqlite_json_value, conn)
    conn.adapters.register_loader("numeric", _NumberLoader)
    return PgConnection(conn, busy_timeout_ms)
