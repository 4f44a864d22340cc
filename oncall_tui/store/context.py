"""Assembling a session's :class:`~oncall_tui.core.context.SessionContext` from the projection."""

from __future__ import annotations

import sqlite3

from oncall_tui.core.agents import Note, Push, PushKind, PushState
from oncall_tui.core.context import IncidentContext, SessionContext
from oncall_tui.core.models import Incident, StoredSignal
from oncall_tui.core.topology import Catalog, match_path
from oncall_tui.store.queries import incident_signals
from oncall_tui.store.tables import SqlTables

RECENT_SIGNALS = 5


def session_pushes(conn: sqlite3.Connection, session_id: str) -> list[Push]:
    """Pushes addressed to the session, plus broadcasts it was in the audience of."""
    rows = conn.execute(
        "SELECT data FROM pushes WHERE session_id = ? OR (session_id IS NULL AND data LIKE ?) ORDER BY number",
        (session_id, f'%"{session_id}"%'),
    ).fetchall()
    pushes = [Push.model_validate_json(r[0]) for r in rows]
    return [p for p in pushes if p.session_id == session_id or session_id in p.recipients]


def build_session_context(
    conn: sqlite3.Connection, session_id: str, *, assume_approved: Push | None = None
) -> SessionContext | None:
    """The session's context now, or — with ``assume_approved`` — as it would be once that push
    is approved: the preview an engineer sees before deciding."""
    tables = SqlTables(conn)
    session = tables.get_session(session_id)
    if session is None:
        return None
    live = [p for p in session_pushes(conn, session_id) if p.state.is_live]
    if assume_approved is not None:
        live = [p for p in live if not _replaced_by(p, assume_approved)]
        live.append(assume_approved.model_copy(update={"state": PushState.APPROVED}))
    incidents: dict[str, Incident] = {}
    for push in live:
        if push.incident_id not in incidents:
            incident = tables.get_incident(push.incident_id)
            if incident is not None:
                incidents[incident.id] = incident
    contexts = []
    for incident in sorted(incidents.values(), key=lambda i: (-i.severity.rank, i.number)):
        if not incident.is_active:
            continue
        mine = [p for p in live if p.incident_id == incident.id]
        updates = [p for p in mine if p.kind is PushKind.UPDATE]
        broadcasts = [p for p in mine if p.kind is PushKind.BROADCAST]
        contexts.append(
            IncidentContext(
                incident=incident,
                push=updates[-1] if updates else None,
                broadcasts=broadcasts,
                changes=tables.suspect_changes(incident.id),
                signals=_recent_signals(tables, incident.id),
            )
        )
    stand_downs = [
        p
        for p in live
        if p.kind is PushKind.STAND_DOWN
        and p.incident_id in incidents
        and not incidents[p.incident_id].is_active
    ]
    services = {s for ic in contexts for p in ic.pushes for s in p.services}
    services |= _touched_services(tables, session.repo, session.paths)
    notes = notes_for_services(conn, services)
    stamps = [session.first_seen]
    stamps += [ic.incident.updated_at for ic in contexts]
    stamps += [p.decided_at for p in live if p.decided_at]
    stamps += [n.updated_at for n in notes]
    seq = max([p.live_seq or 0 for p in live], default=0)
    return SessionContext(session, contexts, notes, stand_downs, seq, max(stamps))


def _replaced_by(push: Push, newer: Push) -> bool:
    return (
        push.incident_id == newer.incident_id
        and push.session_id == newer.session_id
        and push.kind is not PushKind.BROADCAST
        and newer.kind is not PushKind.BROADCAST
    )


def _recent_signals(tables: SqlTables, incident_id: str) -> list[StoredSignal]:
    seen: set[str] = set()
    picked = []
    for stored in reversed(incident_signals(tables.conn, incident_id, limit=50)):
        key = stored.signal.title
        if key not in seen:
            seen.add(key)
            picked.append(stored)
        if len(picked) >= RECENT_SIGNALS:
            break
    return list(reversed(picked))


def _touched_services(tables: SqlTables, repo: str | None, paths: list[str]) -> set[str]:
    catalog = Catalog(services=tables.get_catalog(), source="store")
    return {service for path in paths for service, _ in match_path(catalog, repo, path)}


def notes_for_services(conn: sqlite3.Connection, services: set[str]) -> list[Note]:
    """Current, accepted notes for these services (agent notes wait for an engineer)."""
    if not services:
        return []
    marks = ",".join("?" * len(services))
    rows = conn.execute(
        f"SELECT data FROM notes WHERE service IN ({marks}) ORDER BY number", sorted(services)
    ).fetchall()
    return [n for n in (Note.model_validate_json(r[0]) for r in rows) if n.is_current]
