"""The SQLite schema and its migrations.

The schema version lives in ``PRAGMA user_version``. Each migration takes the DB from version
``n - 1`` to ``n``; opening an older file runs the missing ones, a newer file is refused so an
old binary never writes into a layout it does not understand.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence

from oncall_tui.core.journal_kinds import Kind

SCHEMA_V1 = """
CREATE TABLE journal (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    ts TEXT NOT NULL,
    actor TEXT NOT NULL,
    kind TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX journal_kind ON journal(kind, seq);
CREATE INDEX journal_ts ON journal(ts);

-- Raw deliveries, stored before anything parses them: accepted, rejected and pending alike.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    delivery_key TEXT,
    received_at TEXT NOT NULL,
    headers TEXT NOT NULL,
    body BLOB NOT NULL,
    status TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    reason TEXT,
    signal_count INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 1,
    last_attempt_at TEXT NOT NULL
);
-- Rejected deliveries carry no key, so a forged request can never claim a real delivery's id.
CREATE UNIQUE INDEX deliveries_key ON deliveries(source, delivery_key);
CREATE INDEX deliveries_status ON deliveries(status, id);

CREATE TABLE incidents (
    id TEXT PRIMARY KEY,
    number INTEGER NOT NULL UNIQUE,
    state TEXT NOT NULL,
    severity_rank INTEGER NOT NULL,
    service TEXT,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX incidents_service ON incidents(service, state, opened_at);
CREATE INDEX incidents_state ON incidents(state, severity_rank, opened_at);

CREATE TABLE signals (
    id INTEGER PRIMARY KEY,
    incident_id TEXT,
    source TEXT NOT NULL,
    kind TEXT NOT NULL,
    service TEXT,
    status TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    delivery_id INTEGER,
    data TEXT NOT NULL
);
CREATE INDEX signals_alert ON signals(alert_key, status, occurred_at);
CREATE INDEX signals_incident ON signals(incident_id, id);
CREATE INDEX signals_change ON signals(service, kind, occurred_at);

CREATE TABLE alerts (
    alert_key TEXT PRIMARY KEY,
    incident_id TEXT,
    status TEXT NOT NULL,
    status_at TEXT NOT NULL
);
CREATE INDEX alerts_incident ON alerts(incident_id, status);

CREATE TABLE change_links (
    incident_id TEXT NOT NULL,
    signal_id INTEGER NOT NULL,
    relation TEXT NOT NULL,
    PRIMARY KEY (incident_id, signal_id)
);
"""

Migration = Callable[[sqlite3.Connection], None]


def _run_script(conn: sqlite3.Connection, script: str) -> None:
    # Not executescript(): it commits first, which would break the migration's transaction.
    for statement in script.split(";"):
        if statement.strip():
            conn.execute(statement)


def _v1(conn: sqlite3.Connection) -> None:
    _run_script(conn, SCHEMA_V1)


SCHEMA_V2 = """
CREATE TABLE "catalog" (
   "name" TEXT PRIMARY KEY,
   "data" TEXT NOT NULL
);
CREATE TABLE "sessions" (
   "id" TEXT PRIMARY KEY,
   "repo" TEXT,
   "last_seen" TEXT NOT NULL,
   "ended_at" TEXT,
   "data" TEXT NOT NULL
);
CREATE INDEX "sessions_seen"
    ON "sessions" ("last_seen");
CREATE TABLE "pushes" (
   "id" TEXT PRIMARY KEY,
   "number" INTEGER NOT NULL,
   "incident_id" TEXT NOT NULL,
   "session_id" TEXT,
   "state" TEXT NOT NULL,
   "kind" TEXT NOT NULL,
   "proposed_at" TEXT NOT NULL,
   "data" TEXT NOT NULL
);
CREATE UNIQUE INDEX "pushes_number"
    ON "pushes" ("number");
CREATE INDEX "pushes_state"
    ON "pushes" ("state", "number");
CREATE INDEX "pushes_incident"
    ON "pushes" ("incident_id", "session_id", "number");
CREATE INDEX "pushes_session"
    ON "pushes" ("session_id", "number");
CREATE TABLE "notes" (
   "id" TEXT PRIMARY KEY,
   "number" INTEGER NOT NULL,
   "service" TEXT,
   "incident_id" TEXT,
   "data" TEXT NOT NULL
);
CREATE UNIQUE INDEX "notes_number"
    ON "notes" ("number");
CREATE INDEX "notes_service"
    ON "notes" ("service");
-- Local, non-projected values such as the key that makes context fences unguessable.
CREATE TABLE "meta" (
   "key" TEXT PRIMARY KEY,
   "value" TEXT NOT NULL
)
"""
"""The agent side: catalog, sessions, pushes, notes, and local settings (``meta``).

Written as sqlite-utils wrote it when this migration used it, to the byte: a DB made today
has the schema text of one made then. Performance: importing sqlite-utils was 27-45 ms of
every command that creates a DB (``ingest``'s first run, a hook's first write).
"""


def _v2(conn: sqlite3.Connection) -> None:
    _run_script(conn, SCHEMA_V2)


SCHEMA_V3 = """
-- Refused deliveries from senders we could not authenticate (or for no known source), counted
-- per minute: only the first few of a minute are kept as deliveries rows (a capped summary), so
-- a flood of them stays visible here without filling the disk.
CREATE TABLE refusals (
    minute TEXT NOT NULL,
    source TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    count INTEGER NOT NULL,
    kept INTEGER NOT NULL,
    PRIMARY KEY (minute, source, http_status)
) WITHOUT ROWID
"""


def _v3(conn: sqlite3.Connection) -> None:
    _run_script(conn, SCHEMA_V3)


def _v4(conn: sqlite3.Connection) -> None:
    """Incidents keep two times: ``opened_at`` becomes our receipt and the first signal's own
    time moves to ``signal_started_at``, the one grouping compares other signals' times with.

    Rows projected before held the signal's own time as ``opened_at``; their receipt is when the
    journal wrote their ``incident.opened`` entry, as a fold from scratch now projects it.
    """
    from oncall_tui.core.clock import from_iso, iso
    from oncall_tui.core.journal import Kind
    from oncall_tui.core.models import Incident

    conn.execute("ALTER TABLE incidents ADD COLUMN signal_started_at TEXT")
    conn.execute(
        "CREATE INDEX incidents_signal_time ON incidents(service, state, signal_started_at)"
    )
    received: dict[str, str] = dict(
        conn.execute(
            "SELECT json_extract(body, '$.incident_id'), min(ts) FROM journal WHERE kind = ?"
            " GROUP BY 1",
            (Kind.INCIDENT_OPENED.value,),
        ).fetchall()
    )
    for incident_id, data in conn.execute("SELECT id, data FROM incidents").fetchall():
        old = Incident.model_validate_json(data)
        receipt = received.get(incident_id)
        opened_at = from_iso(receipt) if receipt else old.opened_at
        incident = old.model_copy(
            update={"opened_at": opened_at, "signal_started_at": old.opened_at}
        )
        conn.execute(
            "UPDATE incidents SET opened_at = ?, signal_started_at = ?, data = ? WHERE id = ?",
            (
                iso(incident.opened_at),
                iso(incident.signal_time),
                incident.model_dump_json(),
                incident_id,
            ),
        )


SCHEMA_V5 = """
-- The edit guard's latest decision per session, incident, tool and files: what the hook reads
-- with plain SQL to journal a burst of identical asks once, and to see that a file asked about
-- was then written (allowed-after-ask).
CREATE TABLE IF NOT EXISTS guard_decisions (
    session_id TEXT NOT NULL,
    incident_id TEXT NOT NULL,
    tool TEXT NOT NULL,
    paths TEXT NOT NULL,
    decision TEXT NOT NULL,
    service TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (session_id, incident_id, tool, paths, decision)
) WITHOUT ROWID;
-- Engineers' overrides: this session may write files matching this glob until then.
CREATE TABLE IF NOT EXISTS guard_allowances (
    session_id TEXT NOT NULL,
    path_glob TEXT NOT NULL,
    until TEXT NOT NULL,
    by TEXT NOT NULL,
    PRIMARY KEY (session_id, path_glob)
) WITHOUT ROWID
"""


def _v5(conn: sqlite3.Connection) -> None:
    _run_script(conn, SCHEMA_V5)


SCHEMA_V6 = """
-- Commits tied to agent sessions (by their hook, a trailer or a transcript) and the commits each
-- deploy shipped: the evidence that joins an incident's suspect deploy to the sessions behind it.
CREATE TABLE IF NOT EXISTS commits (
    sha TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    session_id TEXT,
    authored_at TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS commits_session ON commits(session_id, authored_at);
CREATE INDEX IF NOT EXISTS commits_repo ON commits(repo, authored_at);
CREATE TABLE IF NOT EXISTS deploy_ranges (
    signal_id INTEGER PRIMARY KEY,
    service TEXT NOT NULL,
    sha TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS deploy_ranges_service ON deploy_ranges(service, signal_id)
"""


def _v6(conn: sqlite3.Connection) -> None:
    _run_script(conn, SCHEMA_V6)


SCHEMA_AGENT_TOKENS = """
-- One token per machine an agent runs on, for the session routes off loopback. Only the token's
-- sha256 is kept: a copy of the DB admits nobody. Not a projection: the journal says who was
-- given access when (token.created, token.revoked), this table is what a request is checked on.
CREATE TABLE IF NOT EXISTS agent_tokens (
    name TEXT PRIMARY KEY,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    last_used_at TEXT,
    revoked_at TEXT
)
"""


def _agent_tokens(conn: sqlite3.Connection) -> None:
    _run_script(conn, SCHEMA_AGENT_TOKENS)


SCHEMA_DASHBOARD_ORDER = """
-- The dashboard's page of open incidents, worst first, read in order from an index of open ones
-- only (the ORDER BY of a page), and the recently resolved ones it keeps in view found by their
-- resolution time: neither grows with the incidents resolved long ago.
CREATE INDEX IF NOT EXISTS incidents_open_order
    ON incidents(severity_rank, opened_at, number) WHERE state != 'resolved';
CREATE INDEX IF NOT EXISTS incidents_resolved_at
    ON incidents(state, julianday(json_extract(data, '$.resolved_at')));
"""


def _dashboard_order(conn: sqlite3.Connection) -> None:
    _run_script(conn, SCHEMA_DASHBOARD_ORDER)


_WRITTEN_PER_DELIVERY = (
    Kind.DELIVERY_ACCEPTED,
    Kind.INCIDENT_SIGNAL_ATTACHED,
    Kind.SIGNAL_RECORDED,
)
JOURNAL_KIND_INDEXED = " AND ".join(f"kind != '{kind}'" for kind in sorted(_WRITTEN_PER_DELIVERY))
"""The rows the journal's index by kind holds: all but the three kinds written for every
delivery, which nothing looks up by kind. A query by kind says it as well (SQLite uses a
partial index only for a query whose WHERE has the index's own terms), and so never asks for
those three. Comparisons, not ``NOT IN``: SQLite builds a table of an IN list for every row it
inserts, which cost more than the index entries saved."""
SIGNAL_CHANGE_INDEXED = "(kind = 'change' OR kind = 'deploy' OR kind = 'rollback')"
"""The signals the index of changes by service holds: the changes alone
(:data:`oncall_tui.core.models.SignalKind.is_change`; a test holds the two equal)."""

DELIVERY_STATUS_INDEXED = "status != 'accepted'"
"""The deliveries the index by status holds: those still to fold, and the rejected."""

SCHEMA_FEWER_INDEX_WRITES = f"""
-- Performance: the commit of one delivery wrote 23 pages, eight of them for index entries
-- nothing reads. A storm writes a journal row of each of three kinds per delivery, each to its
-- own page of the index by kind, and the index by time serves no query. The signal of every
-- alert went to the index of changes, every accepted delivery to the index by status.
DROP INDEX IF EXISTS journal_kind;
CREATE INDEX journal_kind ON journal(kind, seq) WHERE {JOURNAL_KIND_INDEXED};
DROP INDEX IF EXISTS journal_ts;
DROP INDEX IF EXISTS signals_change;
CREATE INDEX signals_change ON signals(service, kind, occurred_at) WHERE {SIGNAL_CHANGE_INDEXED};
DROP INDEX IF EXISTS deliveries_status;
CREATE INDEX deliveries_status ON deliveries(status, id) WHERE {DELIVERY_STATUS_INDEXED};
"""


def _fewer_index_writes(conn: sqlite3.Connection) -> None:
    _run_script(conn, SCHEMA_FEWER_INDEX_WRITES)


MIGRATIONS: list[Migration] = [
    _v1,
    _v2,
    _v3,
    _v4,
    _v5,
    _v6,
    _agent_tokens,
    _dashboard_order,
    _fewer_index_writes,
]
"""``MIGRATIONS[n - 1]`` upgrades a DB at version ``n - 1`` to version ``n``."""

SCHEMA_VERSION = len(MIGRATIONS)

PROJECTION_TABLES = (
    "incidents",
    "signals",
    "alerts",
    "change_links",
    "catalog",
    "sessions",
    "pushes",
    "notes",
    "guard_decisions",
    "guard_allowances",
    "commits",
    "deploy_ranges",
)
"""Tables derived from the journal; a fold from scratch rebuilds exactly these."""


class SchemaTooNewError(RuntimeError):
    def __init__(self, path: str, found: int) -> None:
        super().__init__(
            f"{path} was written by a newer oncall-tui (schema {found}, this version knows "
            f"{SCHEMA_VERSION}); upgrade oncall-tui or use another --db"
        )


def migrate(conn: sqlite3.Connection, path: str, steps: Sequence[Migration] = MIGRATIONS) -> int:
    """Bring the DB to :data:`SCHEMA_VERSION`; returns the version it had before.

    ``steps``: another backend's version of :data:`MIGRATIONS`, step for step (PostgreSQL's,
    :mod:`oncall_tui.store.pg.schema`)."""
    found = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if found > SCHEMA_VERSION:
        raise SchemaTooNewError(path, found)
    if found == SCHEMA_VERSION:
        return found
    conn.execute("BEGIN IMMEDIATE")
    try:
        # Re-read under the write lock: another process may have migrated meanwhile.
        current = int(conn.execute("PRAGMA user_version").fetchone()[0])
        for version in range(current, SCHEMA_VERSION):
            steps[version](conn)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return found
