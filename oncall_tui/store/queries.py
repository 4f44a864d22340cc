"""Read-side queries shared by the CLI, the receiver and the dashboard.

Each query is one short statement: no cursor is kept open between calls, so readers never pin
the WAL while writers work.
"""

from __future__ import annotations

import sqlite3

from oncall_tui.core.agent_identity import agent_id_of, session_agent_id
from oncall_tui.core.agents import AgentSession
from oncall_tui.core.models import ChangeLink, Incident, StoredSignal
from oncall_tui.store.listing import INCIDENT_ORDER as INCIDENT_ORDER  # the dashboard too
from oncall_tui.store.listing import incident_rows


class NotFoundError(LookupError):
    pass


def list_incidents(
    conn: sqlite3.Connection,
    *,
    include_resolved: bool = False,
    limit: int = 500,
    service: str | None = None,
) -> list[Incident]:
    rows = incident_rows(conn, include_resolved=include_resolved, limit=limit, service=service)
    return [Incident.model_validate_json(data) for data in rows]


def get_incident(conn: sqlite3.Connection, incident_id: str) -> Incident:
    row = conn.execute(
        "SELECT data FROM incidents WHERE id = ? COLLATE NOCASE", (incident_id,)
    ).fetchone()
    if row is None and incident_id.isdigit():
        row = conn.execute(
            "SELECT data FROM incidents WHERE number = ?", (int(incident_id),)
        ).fetchone()
    if row is None:
        raise NotFoundError(f"no incident {incident_id}")
    return Incident.model_validate_json(row[0])


def incident_signals(
    conn: sqlite3.Connection, incident_id: str, limit: int = 200
) -> list[StoredSignal]:
    rows = conn.execute(
        "SELECT data FROM signals WHERE incident_id = ? ORDER BY id DESC LIMIT ?",
        (incident_id, limit),
    ).fetchall()
    return [StoredSignal.model_validate_json(r[0]) for r in reversed(rows)]


def incident_changes(
    conn: sqlite3.Connection, incident_id: str
) -> list[tuple[ChangeLink, StoredSignal]]:
    rows = conn.execute(
        "SELECT l.incident_id, l.signal_id, l.relation, s.data FROM change_links l"
        " JOIN signals s ON s.id = l.signal_id WHERE l.incident_id = ? ORDER BY s.occurred_at",
        (incident_id,),
    ).fetchall()
    return [
        (
            ChangeLink(incident_id=r[0], signal_id=r[1], relation=r[2]),
            StoredSignal.model_validate_json(r[3]),
        )
        for r in rows
    ]


def dump_projection(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Every projection table as sorted rows: what a fold from scratch must reproduce."""
    from oncall_tui.store.schema import PROJECTION_TABLES

    return {
        table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr)
        for table in PROJECTION_TABLES
    }


_AGENT_FIELDS = (
    "SELECT id, json_extract(data, '$.agent'), repo, json_extract(data, '$.cwd'),"
    " json_extract(data, '$.branch') FROM sessions"
)
"""A session's id and the fields its agent is told by, in :func:`agent_id_of`'s order."""


def sessions_by_agent(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Every stored session's id under its agent's id, in one pass, for an export, which asks
    for every open session's agent while an agent's note awaits review. Performance: each
    context parsed every session ever registered for it, 4.4 s a sync at 721 sessions."""
    found: dict[str, list[str]] = {}
    for row in conn.execute(_AGENT_FIELDS).fetchall():
        found.setdefault(agent_id_of(*row), []).append(str(row[0]))
    return found


def agent_session_ids(conn: sqlite3.Connection, session: AgentSession) -> list[str]:
    """The ids of every stored session of ``session``'s agent
    (:func:`~oncall_tui.core.agent_identity.session_agent_id`).

    Performance: telling them by their models parsed every session ever registered, once per
    registration (11 ms at 400 sessions). The agent is told from each session's stored
    fields, read by SQL, and only of the sessions that may share it: the same kind on the same
    branch, and where the agent is named by its repository, in that repository or in none (all
    are part of an agent's id: :func:`~oncall_tui.core.agent_identity.agent_id`).
    """
    query = (
        f"{_AGENT_FIELDS} WHERE json_extract(data, '$.agent') = ?"
        " AND coalesce(json_extract(data, '$.branch'), '') = ?"
    )
    params = [session.agent.value, session.branch or ""]
    if session.repo and session.branch:
        query += " AND (rtrim(repo, '/') = ? OR coalesce(repo, '') = '')"
        params.append(session.repo.rstrip("/"))
    wanted = session_agent_id(session)
    return [
        str(row[0]) for row in conn.execute(query, params).fetchall() if agent_id_of(*row) == wanted
    ]
