"""The hook's quick look at the DB: is the session known and fresh, is there anything new for it,
which rows an edit warning depends on.

These reads decide whether a hook can answer at once or must go through the actions (a write, a
render). They use plain SQL on indexed columns and the standard library: importing the pydantic
models alone would cost more than the whole answer may. The state names below are the stored
values of ``PushState`` and ``IncidentState``. The decisions taken on them live in
the hook package of the agents.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager, suppress
from datetime import datetime
from pathlib import Path

from oncall_tui.core.frozen import Frozen
from oncall_tui.paths import is_postgres_url

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Any, Final

    from oncall_tui.paths import DbLocation

LIVE = "('approved', 'delivered', 'acknowledged')"
"""``PushState.is_live``: approved by a human or a rule, and not replaced."""
ACTIVE = "('triggered', 'acknowledged', 'mitigated')"
"""``IncidentState.is_active``, spelled out so that the ``incidents_state`` index serves it."""
DIRECT = "('hook', 'mcp')"
"""``DIRECT_CHANNELS``: the channels that prove an agent read its context."""
BUSY_TIMEOUT_S = 0.2
"""Readers wait for a lock only in rare moments of a WAL database (recovery, an exclusive
locking mode): the agent waits for the hook, so a read that cannot start at once is given up."""
GUARD_CACHE_KEY = "hook_edit_warnings"
"""The ``meta`` row holding the edit guard's cached answers."""
GUARD_CACHE_BUSY_TIMEOUT_MS = 50
"""Caching is optional: it never waits long for a writer that holds the lock."""


class SessionRow(Frozen):
    """What the hook needs of a stored session to decide whether to write."""

    __slots__ = ("repo", "branch", "paths", "last_seen", "ended", "last_context_seq")

    def __init__(
        self,
        repo: str | None,
        branch: str | None,
        paths: frozenset[str],
        last_seen: datetime,
        ended: bool,
        last_context_seq: int,
    ) -> None:
        self.repo: Final = repo
        self.branch: Final = branch
        self.paths: Final = paths
        self.last_seen: Final = last_seen
        self.ended: Final = ended
        self.last_context_seq: Final = last_context_seq


@contextmanager
def connection(db: DbLocation) -> Iterator[sqlite3.Connection]:
    """:func:`open_reader`, closed at the end of the block."""
    with closing(open_reader(db)) as conn:
        yield conn


def open_reader(db: DbLocation, timeout_s: float = BUSY_TIMEOUT_S) -> sqlite3.Connection:
    """A plain connection to an existing DB, in autocommit mode: no read transaction lingers to
    pin the WAL. It never migrates or creates the DB (the caller checked that the file exists);
    its one write is the edit-guard cache row (:func:`write_guard_cache`). On PostgreSQL it is
    the store's adapter, which speaks the same SQL (and costs the import of psycopg)."""
    if is_postgres_url(db):
        from oncall_tui.store.pg.connection import open_connection

        pg = open_connection(db, busy_timeout_ms=int(timeout_s * 1000))
        return pg  # type: ignore[return-value]  # the sqlite3.Connection subset the store uses
    return sqlite3.connect(db, timeout=timeout_s, isolation_level=None)


def present(db: DbLocation) -> bool:
    """Whether ``db`` may hold a DB at all: a SQLite file that is there and not empty (what
    ``touch`` leaves), or any PostgreSQL URL (whose schema version then tells)."""
    if is_postgres_url(db):
        return True
    try:
        path = Path(db)
        return path.is_file() and path.stat().st_size > 0
    except OSError:
        return False


def schema_version(conn: sqlite3.Connection) -> int:
    """0 for a file oncall-tui never initialised (see :func:`initialised`)."""
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def write_lock_free(db: DbLocation, timeout_s: float) -> bool:
    """Whether a write lock on ``db`` can be had within ``timeout_s`` (taken and let go at once).

    Standard library only, so that it can wait while the caller imports what the write needs.
    On PostgreSQL the write itself waits at most as long for the lock (``lock_timeout``).
    """
    if is_postgres_url(db):
        return True
    try:
        with closing(sqlite3.connect(db, timeout=timeout_s, isolation_level=None)) as conn:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
    except sqlite3.Error:
        return False
    return True


def initialised(db: DbLocation) -> bool:
    """Whether ``db`` holds a DB that oncall-tui created (at any schema version).

    An agent's hook and MCP server use a DB, never create one: a missing file, a zero-byte one
    (what ``touch`` or ``mktemp`` leave, a ``--db`` typo) or another program's SQLite file is
    left exactly as it is. The CLI and the dashboard do create and migrate it.
    """
    try:
        if not present(db):
            return False
        with connection(db) as conn:
            return schema_version(conn) > 0
    except sqlite3.OperationalError as exc:
        # Locked: a DB that some process is using right now, which the caller waits for as it
        # opens it; anything else (not a database, unreadable) is no DB of ours.
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY
    except (OSError, sqlite3.Error):
        return False


def read_session(conn: sqlite3.Connection, session_id: str) -> SessionRow | None:
    row = conn.execute("SELECT data FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        return None
    data = json.loads(row[0])
    return SessionRow(
        repo=data.get("repo"),
        branch=data.get("branch"),
        paths=frozenset(data.get("paths") or ()),
        last_seen=datetime.fromisoformat(data["last_seen"]),
        ended=data.get("ended_at") is not None,
        last_context_seq=int(data.get("last_context_seq") or 0),
    )


LIVE_UPDATE_OF_INCIDENT = (
    "SELECT 1 FROM pushes q WHERE q.session_id = p.session_id"
    f" AND q.incident_id = p.incident_id AND q.kind = 'update' AND +q.state IN {LIVE}"
)
"""For a push ``p``: its session holds a live update of its incident (a notice then waits)."""
HEARD_OF_INCIDENT = (
    "SELECT 1 FROM pushes q, json_each(q.data, '$.delivered_via') v"
    " WHERE q.session_id = p.session_id AND q.incident_id = p.incident_id"
    f" AND q.kind != 'stand-down' AND v.value IN {DIRECT}"
    " UNION ALL SELECT 1 FROM pushes q, json_each(q.data, '$.announced_via') v"
    " WHERE q.session_id = p.session_id AND q.incident_id = p.incident_id"
    f" AND v.value IN {DIRECT}"
)
"""For a push ``p``: a hook or MCP read told its session of its incident (a stand-down is news)."""


def has_new_context(conn: sqlite3.Connection, session_id: str, since_seq: int) -> bool:
    """Whether something the session's context shows became news after ``since_seq``.

    Mirrors what :func:`~oncall_tui.store.context.build_session_context` shows: updates and
    broadcasts of active incidents once live; while no update of an incident is live, the notice
    of its announced pending update; stand-downs of resolved incidents the session heard of
    through a hook or MCP. An update whose incident has resolved meanwhile is not news, and
    counting it would send every prompt down the slow path until the stand-down is approved.
    ``+p.state`` keeps the planner on the session index.
    """
    newer = "json_extract(p.data, '$.live_seq') > ?"
    row = conn.execute(
        f"SELECT 1 FROM pushes p JOIN incidents i ON i.id = p.incident_id"
        f" WHERE p.session_id = ? AND +p.state IN {LIVE} AND {newer} AND p.kind != 'stand-down'"
        f" AND i.state IN {ACTIVE}"
        f" UNION ALL SELECT 1 FROM pushes p JOIN incidents i ON i.id = p.incident_id"
        f" WHERE p.session_id = ? AND +p.state IN {LIVE} AND {newer} AND p.kind = 'stand-down'"
        f" AND i.state = 'resolved' AND EXISTS ({HEARD_OF_INCIDENT})"
        f" UNION ALL SELECT 1 FROM pushes p JOIN incidents i ON i.id = p.incident_id"
        f" WHERE p.session_id = ? AND +p.state = 'pending' AND p.kind = 'update'"
        f" AND json_extract(p.data, '$.notice') AND json_extract(p.data, '$.proposed_seq') > ?"
        f" AND i.state IN {ACTIVE} AND NOT EXISTS ({LIVE_UPDATE_OF_INCIDENT})"
        f" UNION ALL SELECT 1 FROM pushes p JOIN incidents i ON i.id = p.incident_id"
        f" WHERE p.session_id IS NULL AND +p.state IN {LIVE} AND {newer} AND i.state IN {ACTIVE}"
        f" AND EXISTS (SELECT 1 FROM json_each(p.data, '$.recipients') WHERE value = ?)"
        f" LIMIT 1",
        (
            session_id,
            since_seq,
            session_id,
            since_seq,
            session_id,
            since_seq,
            since_seq,
            session_id,
        ),
    ).fetchone()
    return row is not None


class GuardInputs:
    """Every row an edit warning depends on, as stored: the cache key is their digest, so any
    change to an active incident, the catalog or the session's live pushes gives a new key.
    Never compared, so not a record: a plain class, whose key is digested when first asked."""

    __slots__ = ("_state_key", "catalog", "incidents", "told")

    def __init__(
        self,
        incidents: list[str],
        catalog: list[tuple[str, str]],
        told: list[tuple[str, str | None, str | None, str | None]],
    ) -> None:
        self.incidents: Final = incidents
        """Active incidents' JSON, most severe first."""
        self.catalog: Final = catalog
        self.told: Final = told
        """The session's live updates: incident, services (JSON), edited_by, guidance."""
        self._state_key: str | None = None

    @property
    def state_key(self) -> str:
        """With no active incident it is never asked (nor is hashlib imported)."""
        if self._state_key is None:
            self._state_key = _digest([self.incidents, self.catalog])
        return self._state_key

    def answer_key(self, repo: str | None, path: str) -> str:
        return _digest([self.state_key, self.told, repo, path])


def read_guard_inputs(conn: sqlite3.Connection, session_id: str) -> GuardInputs:
    incidents = conn.execute(
        f"SELECT data FROM incidents WHERE state IN {ACTIVE} ORDER BY severity_rank DESC, number"
    ).fetchall()
    if not incidents:
        return GuardInputs([], [], [])
    catalog = conn.execute("SELECT name, data FROM catalog ORDER BY name").fetchall()
    told = conn.execute(
        f"SELECT incident_id, json_extract(data, '$.services'), json_extract(data, '$.edited_by'),"
        f" json_extract(data, '$.guidance') FROM pushes"
        f" WHERE session_id = ? AND +state IN {LIVE} AND kind = 'update' ORDER BY number",
        (session_id,),
    ).fetchall()
    return GuardInputs([r[0] for r in incidents], [tuple(r) for r in catalog], told)


def read_guard_cache(conn: sqlite3.Connection) -> dict[str, Any]:
    """The edit guard's cached answers as last stored; empty when there are none."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (GUARD_CACHE_KEY,)).fetchone()
    cache: dict[str, Any] = json.loads(row[0]) if row else {}
    return cache


def write_guard_cache(conn: sqlite3.Connection, cache: dict[str, Any]) -> None:
    """Best effort, in autocommit: a busy DB or a read-only file just means no cache this time."""
    previous = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute(f"PRAGMA busy_timeout = {GUARD_CACHE_BUSY_TIMEOUT_MS}")
    try:
        with suppress(sqlite3.Error):
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (GUARD_CACHE_KEY, json.dumps(cache, separators=(",", ":"))),
            )
    finally:
        conn.execute(f"PRAGMA busy_timeout = {previous}")


def guard_paths_key(paths: Sequence[str]) -> str:
    """How a decision's paths are keyed in ``guard_decisions`` (the order as given)."""
    return json.dumps(list(paths), separators=(",", ":"))


class GuardRow(Frozen):
    """One stored edit-guard decision, as the hook reads it back."""

    __slots__ = ("incident_id", "tool", "paths", "decision", "service", "at")

    def __init__(
        self,
        incident_id: str,
        tool: str,
        paths: list[str],
        decision: str,
        service: str,
        at: datetime,
    ) -> None:
        self.incident_id: Final = incident_id
        self.tool: Final = tool
        self.paths: Final = paths
        self.decision: Final = decision
        self.service: Final = service
        self.at: Final = at


def guard_decided_at(
    conn: sqlite3.Connection,
    session_id: str,
    incident_id: str,
    tool: str,
    paths: Sequence[str],
    decision: str,
) -> datetime | None:
    """When this very decision was last journalled, if ever (one primary-key lookup)."""
    row = conn.execute(
        "SELECT at FROM guard_decisions WHERE session_id = ? AND incident_id = ? AND tool = ?"
        " AND paths = ? AND decision = ?",
        (session_id, incident_id, tool, guard_paths_key(paths), decision),
    ).fetchone()
    return datetime.fromisoformat(row[0]) if row else None


def guard_decisions_since(
    conn: sqlite3.Connection, session_id: str, since: datetime
) -> list[GuardRow]:
    """The session's decisions journalled at or after ``since``, newest first."""
    rows = conn.execute(
        "SELECT incident_id, tool, paths, decision, service, at FROM guard_decisions"
        " WHERE session_id = ? ORDER BY at DESC",
        (session_id,),
    ).fetchall()
    found = [
        GuardRow(str(i), str(t), list(json.loads(p)), str(d), str(s), datetime.fromisoformat(a))
        for i, t, p, d, s, a in rows
    ]
    return [row for row in found if row.at >= since]


def guard_allowances(conn: sqlite3.Connection, session_id: str, now: datetime) -> list[str]:
    """The path globs an engineer lets the session write at ``now``."""
    rows = conn.execute(
        "SELECT path_glob, until FROM guard_allowances WHERE session_id = ?", (session_id,)
    ).fetchall()
    return [str(glob) for glob, until in rows if datetime.fromisoformat(until) > now]


def _digest(value: object) -> str:
    import hashlib  # only the edit guard's answers are keyed: a prompt does not load OpenSSL

    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()[:32]
