"""Opening the SQLite file: WAL, busy timeout, migrations, short write transactions.

Several processes share one file (the dashboard, ``serve``, the CLI, agent hooks), so every
write is a short ``BEGIN IMMEDIATE`` transaction and nobody holds a read transaction open.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from oncall_tui.paths import DbLocation
from oncall_tui.paths import is_postgres_url as is_postgres_url  # where the store asks
from oncall_tui.store.schema import migrate

BUSY_TIMEOUT_MS = 5000
WAL_KEEP_BYTES = 16 * 1024 * 1024
"""After a storm the WAL file is cut back to this once checkpointed (it never shrinks by itself)."""


Synchronous = Literal["NORMAL", "FULL"]


class StoreUnavailableError(RuntimeError):
    """The store cannot commit right now (disk full, read-only, locked): senders should retry."""


def connect(path: Path | str, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """Open (creating if needed) and migrate the DB at ``path``.

    Commits run at ``synchronous=NORMAL``: in WAL mode that survives a crash of any process, not
    a power cut or an OS crash. What must survive those too asks for FULL per commit
    (:func:`write_transaction`): human decisions, and the receiver's acknowledged deliveries,
    since senders retry only what was not acknowledged.

    Raises :class:`~oncall_tui.store.schema.SchemaTooNewError` for a DB from a newer version.
    """
    path_str = str(path)
    if path_str != ":memory:":
        Path(path_str).parent.mkdir(parents=True, exist_ok=True)
        _create_private(Path(path_str))
    # isolation_level=None: we issue BEGIN/COMMIT ourselves, so no implicit transaction can
    # linger and pin the WAL.
    conn = sqlite3.connect(
        path_str, timeout=busy_timeout_ms / 1000, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {busy_timeout_ms}")
    if path_str != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute(f"PRAGMA journal_size_limit = {WAL_KEEP_BYTES}")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = OFF")
    migrate(conn, path_str)
    return conn


def open_db(location: DbLocation, *, busy_timeout_ms: int = BUSY_TIMEOUT_MS) -> sqlite3.Connection:
    """The migrated connection to ``location``: the SQLite file, or for a ``postgresql://`` URL
    the PostgreSQL adapter (:mod:`oncall_tui.store.pg`, imported only then), which the store
    uses as it uses a ``sqlite3.Connection``."""
    if is_postgres_url(location):
        from oncall_tui.store.pg.db import connect as connect_pg

        return connect_pg(location, busy_timeout_ms=busy_timeout_ms)
    return connect(location, busy_timeout_ms=busy_timeout_ms)


def _create_private(path: Path) -> None:
    # The DB holds raw deliveries and decisions: readable by its owner only (0600).
    if not path.exists():
        fd = os.open(path, os.O_CREAT | os.O_WRONLY, 0o600)
        os.close(fd)


@contextmanager
def write_transaction(
    conn: sqlite3.Connection, *, durable: bool = False
) -> Iterator[sqlite3.Connection]:
    """One short write transaction, serialised across processes by ``BEGIN IMMEDIATE``.

    ``durable`` asks for ``synchronous=FULL`` for this commit (human decisions must survive
    power loss, telemetry may be re-sent by its sender). Store-level failures (disk full,
    read-only file, lock timeout) surface as :class:`StoreUnavailableError`.
    """
    # Back to the connection's own level afterwards, which may be FULL already (the receiver).
    restore: int | None = None
    try:
        if durable:
            (level,) = conn.execute("PRAGMA synchronous").fetchone()
            if int(level) < 2:
                restore = int(level)
                conn.execute("PRAGMA synchronous = FULL")
        conn.execute("BEGIN IMMEDIATE")
    except sqlite3.OperationalError as exc:
        if restore is not None:
            conn.execute(f"PRAGMA synchronous = {restore}")
        raise StoreUnavailableError(str(exc)) from exc
    try:
        yield conn
        conn.execute("COMMIT")
    except (sqlite3.OperationalError, sqlite3.DatabaseError) as exc:
        _rollback(conn)
        raise StoreUnavailableError(str(exc)) from exc
    except BaseException:
        _rollback(conn)
        raise
    finally:
        if restore is not None:
            conn.execute(f"PRAGMA synchronous = {restore}")


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
