"""A session's :class:`~oncall_tui.core.context.model.SessionContext` from the projection tables.

Only the fetching lives here; :func:`~oncall_tui.core.context.assemble.assemble_session_context`
decides what the context says, the same function replay uses, so live and replay agree.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field, replace

from oncall_tui.core.agent_identity import notes_of_sessions_awaiting_review, session_agent_id
from oncall_tui.core.agents import AgentSession, Note, Push
from oncall_tui.core.context.assemble import (
    SIGNAL_WINDOW,
    assemble_session_context,
    assume_approval,
    context_incident_ids,
)
from oncall_tui.core.context.model import SessionContext
from oncall_tui.core.models import Incident
from oncall_tui.core.topology import Catalog
from oncall_tui.store.queries import incident_signals, sessions_by_agent
from oncall_tui.store.tables import SqlTables


def session_pushes(conn: sqlite3.Connection, session_id: str) -> list[Push]:
    """Pushes addressed to the session, plus broadcasts it was in the audience of."""
    rows = conn.execute(
        "SELECT data FROM pushes WHERE session_id = ? OR (session_id IS NULL AND data LIKE ?) ORDER BY number",
        (session_id, f'%"{session_id}"%'),
    ).fetchall()
    pushes = [Push.model_validate_json(r[0]) for r in rows]
    return [p for p in pushes if p.session_id == session_id or session_id in p.recipients]


@dataclass(frozen=True)
class SharedReads:
    """What every session's context reads alike (the catalog, the notes, and while an agent's
    note awaits review, which sessions are one agent's), read once for a pass over all of them
    (an export), not once per session."""

    catalog: Catalog
    all_notes: list[Note]
    _by_agent: dict[str, list[str]] = field(default_factory=dict, compare=False, repr=False)

    def sessions_of_agent(self, conn: sqlite3.Connection, session: AgentSession) -> list[str]:
        """The ids of every session of ``session``'s agent, every agent told on first use."""
        if not self._by_agent:
            self._by_agent.update(sessions_by_agent(conn))
        return self._by_agent.get(session_agent_id(session), [])

    @property
    def current_notes(self) -> list[Note]:
        return [n for n in self.all_notes if n.is_current]

    @classmethod
    def read(cls, conn: sqlite3.Connection) -> SharedReads:
        rows = conn.execute("SELECT data FROM notes ORDER BY number").fetchall()
        catalog = Catalog(services=SqlTables(conn).get_catalog(), source="store")
        return cls(catalog, [Note.model_validate_json(r[0]) for r in rows])


def build_session_context(
    conn: sqlite3.Connection,
    session_id: str,
    *,
    assume_approved: Push | None = None,
    contact: str | None = None,
    shared: SharedReads | None = None,
) -> SessionContext | None:
    """The session's context now, or — with ``assume_approved`` — as it would be once that push
    is approved: the preview an engineer sees before deciding. ``contact`` names the on-call
    engineer where no human approved the guidance (``[oncall] contact``). ``shared``: read
    once by the caller for many sessions, in the same transaction."""
    tables = SqlTables(conn)
    session = tables.get_session(session_id)
    if session is None:
        return None
    pushes = session_pushes(conn, session_id)
    if assume_approved is not None:
        pushes = assume_approval(pushes, assume_approved)
    incidents: dict[str, Incident] = {}
    for incident_id in sorted(context_incident_ids(pushes)):
        incident = tables.get_incident(incident_id)
        if incident is not None:
            incidents[incident.id] = incident
    active = [i.id for i in incidents.values() if i.is_active]
    shared = shared or SharedReads.read(conn)
    ctx = assemble_session_context(
        session,
        pushes,
        incidents,
        changes={i: tables.suspect_changes(i) for i in active},
        signals={i: incident_signals(conn, i, limit=SIGNAL_WINDOW) for i in active},
        catalog=shared.catalog,
        notes=shared.current_notes,
        contact=contact,
    )
    return replace(ctx, awaiting_review=_awaiting_review(conn, session, shared))


def _awaiting_review(
    conn: sqlite3.Connection, session: AgentSession, shared: SharedReads
) -> list[Note]:
    notes = shared.all_notes
    if not any(n.is_pending and n.agent_authored for n in notes):
        return []  # no agent's note waits: whose they are need not be asked
    return notes_of_sessions_awaiting_review(notes, shared.sessions_of_agent(conn, session))


def notes_for_services(conn: sqlite3.Connection, services: set[str]) -> list[Note]:
    """Current, accepted notes for these services (agent notes wait for an engineer)."""
    if not services:
        return []
    marks = ",".join("?" * len(services))
    rows = conn.execute(
        f"SELECT data FROM notes WHERE service IN ({marks}) ORDER BY number", sorted(services)
    ).fetchall()
    return [n for n in (Note.model_validate_json(r[0]) for r in rows) if n.is_current]
