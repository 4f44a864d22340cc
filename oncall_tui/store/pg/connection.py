"""A PostgreSQL connection that the store uses as it uses a ``sqlite3.Connection``.

The store issues SQLite statements through ``execute``/``executemany`` and runs its own
transactions (``BEGIN IMMEDIATE`` ... ``COMMIT``), as on a SQLite connection opened with
``isolation_level=None``. Here:

- statements are translated once per text (:mod:`oncall_tui.store.pg.translate`);
- ``BEGIN IMMEDIATE`` is ``BEGIN`` plus a transaction-scoped advisory lock on the journal: one
  writer at a time across every process on the database, as SQLite's write lock, so the
  writer's ``seq`` (the high-water mark read under the lock, plus one) stays gap-free and in
  commit order. The lock is released by the commit itself, after the rows are visible;
- the ``PRAGMA`` s the store reads and sets have their counterparts: ``user_version`` is a
  one-row table, ``busy_timeout`` is ``lock_timeout`` (how long a writer waits for the lock),
  ``synchronous`` is always FULL (every commit is flushed);
- errors come out as the ``sqlite3`` exception of the same DB-API class, which is what the
  store's callers tell apart (a lock timeout is an ``OperationalError`` on both).
"""

from __future__ import annotations

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
from psycopg.pq import TransactionStatus
from psycopg.types.json import set_json_loads

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
        self, rows: list[tuple[Any, ...]], rowcount: int, lastrowid: int | None = None
    ) -> None:
        self._rows = rows
        self._next = 0
        self.rowcount = rowcount
        self.lastrowid = lastrowid

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
        with _as_sqlite_errors():
            cursor = self._conn.execute(translated.sql, values or None)
            rows = cursor.fetchall() if cursor.description is not None else []
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
        with _as_sqlite_errors(), self._conn.cursor() as cursor:
            cursor.executemany(translated.sql, batch)
            return PgCursor([], cursor.rowcount)

    def execute_native(self, sql: str) -> None:
        """PostgreSQL's own SQL, untranslated (what SQLite has no words for: a function)."""
        with _as_sqlite_errors():
            self._conn.execute(sql)

    def close(self) -> None:
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

    # --- what SQLite does differently ----------------------------------------------------

    def _special(self, sql: str) -> PgCursor | None:
        """Transaction control and pragmas, which translate to more (or less) than SQL."""
        words = sql.split()
        if not words:
            return PgCursor([], -1)
        first = words[0].upper()
        if first == "PRAGMA":
            return self._pragma(sql)
        if first not in _TRANSACTION_WORDS or (first == "ROLLBACK" and len(words) > 1):
            # ROLLBACK TO a savepoint, SAVEPOINT and RELEASE mean the same on both.
            return self._plain(sql) if first in _TRANSACTION_WORDS else None
        if first == "BEGIN":
            with _as_sqlite_errors():
                self._conn.execute("BEGIN")
                if len(words) > 1 and words[1].upper() in ("IMMEDIATE", "EXCLUSIVE"):
                    self._take_write_lock()
            return PgCursor([], -1)
        return self._plain("COMMIT" if first == "END" else sql)

    def _take_write_lock(self) -> None:
        try:
            self._conn.execute(
                "SELECT pg_advisory_xact_lock($1::int4, $2::int4)",
                (LOCK_NAMESPACE, self._lock_key),
            )
        except BaseException:
            # As SQLite's BEGIN IMMEDIATE that timed out: no transaction is left open.
            self._conn.execute("ROLLBACK")
            raise

    def _plain(self, sql: str) -> PgCursor:
        with _as_sqlite_errors():
            self._conn.execute(sql)
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
