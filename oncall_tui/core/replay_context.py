"""A session's context as it was at a point of a replay, built from the folded state.

The same assembly as :func:`oncall_tui.store.context.build_session_context` does over SQLite,
here over :class:`~oncall_tui.core.memory.MemoryTables`, so that rendering it gives the exact
document the agent read when a push was delivered (a test holds the two builders to the same
bytes).
"""

from __future__ import annotations

from oncall_tui.core.agents import Note, Push, PushKind
from oncall_tui.core.context import IncidentContext, SessionContext
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import Incident, StoredSignal
from oncall_tui.core.topology import Catalog, match_path

RECENT_SIGNALS = 5
SIGNAL_WINDOW = 50
"""The store looks at an incident's 50 latest signals for the 5 distinct recent ones."""


def session_pushes(tables: MemoryTables, session_id: str) -> list[Push]:
    """Pushes addressed to the session, plus broadcasts it was in the audience of."""
    found = [
        p
        for p in tables.pushes.values()
        if p.session_id == session_id or (p.session_id is None and session_id in p.recipients)
    ]
    return sorted(found, key=lambda p: p.number)


def session_context(tables: MemoryTables, session_id: str) -> SessionContext | None:
    """What the session's context document said at this state (None if it was not registered)."""
    session = tables.get_session(session_id)
    if session is None:
        return None
    live = [p for p in session_pushes(tables, session_id) if p.state.is_live]
    incidents: dict[str, Incident] = {}
    for push in live:
        incident = tables.get_incident(push.incident_id)
        if incident is not None:
            incidents.setdefault(incident.id, incident)
    contexts = []
    for incident in sorted(incidents.values(), key=lambda i: (-i.severity.rank, i.number)):
        if not incident.is_active:
            continue
        mine = [p for p in live if p.incident_id == incident.id]
        updates = [p for p in mine if p.kind is PushKind.UPDATE]
        contexts.append(
            IncidentContext(
                incident=incident,
                push=updates[-1] if updates else None,
                broadcasts=[p for p in mine if p.kind is PushKind.BROADCAST],
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
    catalog = Catalog(services=tables.get_catalog(), source="store")
    services = {s for ic in contexts for p in ic.pushes for s in p.services}
    services |= {
        service for path in session.paths for service, _ in match_path(catalog, session.repo, path)
    }
    notes = _notes_for_services(tables, services)
    stamps = [session.first_seen]
    stamps += [ic.incident.updated_at for ic in contexts]
    stamps += [p.decided_at for p in live if p.decided_at]
    stamps += [n.updated_at for n in notes]
    seq = max([p.live_seq or 0 for p in live], default=0)
    return SessionContext(session, contexts, notes, stand_downs, seq, max(stamps))


def _recent_signals(tables: MemoryTables, incident_id: str) -> list[StoredSignal]:
    latest = sorted(
        (s for s in tables.signals.values() if s.incident_id == incident_id),
        key=lambda s: s.id,
    )[-SIGNAL_WINDOW:]
    seen: set[str] = set()
    picked: list[StoredSignal] = []
    for stored in reversed(latest):
        if stored.signal.title not in seen:
            seen.add(stored.signal.title)
            picked.append(stored)
        if len(picked) >= RECENT_SIGNALS:
            break
    return list(reversed(picked))


def _notes_for_services(tables: MemoryTables, services: set[str]) -> list[Note]:
    found = [n for n in tables.notes.values() if n.service in services and n.is_current]
    return sorted(found, key=lambda n: n.number)
