"""A session's context as it was at a point of a replay, built from the folded state.

Gathers the rows from :class:`~oncall_tui.core.memory.MemoryTables` and hands them to
:func:`~oncall_tui.core.context.assemble.assemble_session_context`, the assembler the live store
uses too, so that rendering it gives the exact document the agent read when a push was delivered
(a test holds the two to the same bytes).
"""

from __future__ import annotations

from dataclasses import replace

from oncall_tui.core.agent_identity import notes_awaiting_review
from oncall_tui.core.agents import Push
from oncall_tui.core.context.assemble import (
    SIGNAL_WINDOW,
    assemble_session_context,
    context_incident_ids,
)
from oncall_tui.core.context.model import SessionContext
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import Incident, StoredSignal
from oncall_tui.core.topology import Catalog


def session_pushes(tables: MemoryTables, session_id: str) -> list[Push]:
    """Pushes addressed to the session, plus broadcasts it was in the audience of."""
    found = [
        p
        for p in tables.pushes.values()
        if p.session_id == session_id or (p.session_id is None and session_id in p.recipients)
    ]
    return sorted(found, key=lambda p: p.number)


def session_context(
    tables: MemoryTables, session_id: str, *, contact: str | None = None
) -> SessionContext | None:
    """What the session's context document said at this state (None if it was not registered)."""
    session = tables.get_session(session_id)
    if session is None:
        return None
    pushes = session_pushes(tables, session_id)
    incidents: dict[str, Incident] = {}
    for incident_id in sorted(context_incident_ids(pushes)):
        incident = tables.get_incident(incident_id)
        if incident is not None:
            incidents[incident.id] = incident
    active = [i.id for i in incidents.values() if i.is_active]
    ctx = assemble_session_context(
        session,
        pushes,
        incidents,
        changes={i: tables.suspect_changes(i) for i in active},
        signals={i: _latest_signals(tables, i) for i in active},
        catalog=Catalog(services=tables.get_catalog(), source="store"),
        notes=tables.notes.values(),
        contact=contact,
    )
    awaiting = notes_awaiting_review(tables.notes.values(), tables.sessions.values(), session)
    return replace(ctx, awaiting_review=awaiting)


def _latest_signals(tables: MemoryTables, incident_id: str) -> list[StoredSignal]:
    """The incident's latest signals oldest first, the window the store's query returns."""
    return sorted(
        (s for s in tables.signals.values() if s.incident_id == incident_id),
        key=lambda s: s.id,
    )[-SIGNAL_WINDOW:]
