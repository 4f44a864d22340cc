"""Opening a PostgreSQL store: connect, create the version row, migrate."""

from __future__ import annotations

import sqlite3
from typing import cast

from oncall_tui.store.pg.connection import VERSION_TABLE, PgConnection, open_connection
from oncall_tui.store.pg.schema import MIGRATIONS
from oncall_tui.store.schema import migrate


def connect(url: str, *, busy_timeout_ms: int) -> sqlite3.Connection:
    """Open (migrating if needed) the store at ``url``.

    Returned as the ``sqlite3.Connection`` the store's modules are written against: the adapter
    offers the part of its interface they use (see :mod:`oncall_tui.store.pg.connection`).
    Raises :class:`~oncall_tui.store.schema.SchemaTooNewError` for a newer schema.
    """
    conn = open_connection(url, busy_timeout_ms=busy_timeout_ms)
    try:
        _create_version_row(conn)
        migrate(cast(sqlite3.Connection, conn), url, MIGRATIONS)
    except BaseException:
        conn.close()
        raise
    return cast(sqlite3.Connection, conn)


def _create_version_row(conn: PgConnection) -> None:
    # Under the write lock: two processes opening a new database at once create it once.
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute_native(
            f"CREATE TABLE IF NOT EXISTS {VERSION_TABLE} (version integer NOT NULL)"
        )
        conn.execute_native(
            f"INSERT INTO {VERSION_TABLE} SELECT 0 WHERE NOT EXISTS (SELECT 1 FROM {VERSION_TABLE})"
        )
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
