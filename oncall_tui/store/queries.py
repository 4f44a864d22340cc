"""Read-side queries shared by the CLI, the receiver and the dashboard.

Each query is one short statement: no cursor is kept open between calls, so readers never pin
the WAL while writers work.
"""

from __future__ import annotations

import sqlite3

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
