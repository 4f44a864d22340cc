"""The schema on PostgreSQL: the same ordered migrations as SQLite's, and the same version.

:data:`MIGRATIONS` is :data:`oncall_tui.store.schema.MIGRATIONS` step for step: each step
runs its SQLite statements through the translation, except the two that need something SQLite
alone has (named in :data:`OWN_STEPS`). The version is kept where ``PRAGMA user_version``
reads it (see :mod:`oncall_tui.store.pg.connection`), so ``migrate`` is the one SQLite runs.
"""

from __future__ import annotations

import sqlite3

from oncall_tui.store import schema
from oncall_tui.store.pg.connection import PgConnection
from oncall_tui.store.schema import Migration

SCHEMA_V2 = """
-- What sqlite-utils creates for version 2 on SQLite (it drives sqlite3 alone).
CREATE TABLE catalog (name TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE sessions (
   id TEXT PRIMARY KEY,
   repo TEXT,
   last_seen TEXT NOT NULL,
   ended_at TEXT,
   data TEXT NOT NULL
);
CREATE INDEX sessions_seen ON sessions (last_seen);
CREATE TABLE pushes (
   id TEXT PRIMARY KEY,
   number INTEGER NOT NULL,
   incident_id TEXT NOT NULL,
   session_id TEXT,
   state TEXT NOT NULL,
   kind TEXT NOT NULL,
   proposed_at TEXT NOT NULL,
   data TEXT NOT NULL
);
CREATE UNIQUE INDEX pushes_number ON pushes (number);
CREATE INDEX pushes_state ON pushes (state, number);
CREATE INDEX pushes_incident ON pushes (incident_id, session_id, number);
CREATE INDEX pushes_session ON pushes (session_id, number);
CREATE TABLE notes (
   id TEXT PRIMARY KEY,
   number INTEGER NOT NULL,
   service TEXT,
   incident_id TEXT,
   data TEXT NOT NULL
);
CREATE UNIQUE INDEX notes_number ON notes (number);
CREATE INDEX notes_service ON notes (service);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)
"""

JULIANDAY = """
CREATE OR REPLACE FUNCTION julianday(value text) RETURNS double precision
LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURNS NULL ON NULL INPUT AS $$
    SELECT extract(epoch FROM (
        CASE WHEN value ~ '(Z|[+-]\\d\\d(:?\\d\\d)?)$' THEN value::timestamptz
        ELSE value::timestamp AT TIME ZONE 'UTC' END
    )) / 86400.0 + 2440587.5
$$
"""
"""SQLite's ``julianday`` for the store's ISO times (a time without an offset is UTC, as in
SQLite). Immutable for an index: each text names one instant whatever the session's zone."""


def _v2(conn: sqlite3.Connection) -> None:
    schema._run_script(conn, SCHEMA_V2)


def _dashboard_order(conn: sqlite3.Connection) -> None:
    """The index of resolution times is on ``julianday``, defined first."""
    if not isinstance(conn, PgConnection):
        raise TypeError("PostgreSQL's migration step on another connection")
    conn.execute_native(JULIANDAY)
    schema._dashboard_order(conn)


OWN_STEPS: dict[Migration, Migration] = {schema._v2: _v2, schema._dashboard_order: _dashboard_order}
"""SQLite's step → PostgreSQL's, where they differ."""

MIGRATIONS: list[Migration] = [OWN_STEPS.get(step, step) for step in schema.MIGRATIONS]
