"""The one assembly of a session's :class:`~oncall_tui.core.context.model.SessionContext`.

The live store and replay both hand their rows to :func:`assemble_session_context`, so the
document an agent reads now and the one replay shows for the same journal position cannot drift
apart: a test holds them to the same bytes. It takes plain data, never a connection, which keeps
it pure and lets each side fetch the rows its own way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from oncall_tui.core.agents import AgentSession, Note, Push, PushKind, PushState
from oncall_tui.core.context.model import IncidentContext, SessionContext
from oncall_tui.core.models import Incident, StoredSignal
from oncall_tui.core.topology import Catalog, match_path

RECENT_SIGNALS = 5
"""Distinct recent signals shown per incident: enough to recognise it, short enough to read."""
SIGNAL_WINDOW = 50
"""How many of an incident's latest signals are searched for those distinct recent ones."""


def assume_approval(live: Sequence[Push], push: Push) -> list[Push]:
    """The live pushes as they would be once ``push`` is approved: the preview an engineer sees
    before deciding, so it replaces what that approval would supersede."""
    kept = [p for p in live if not _replaced_by(p, push)]
    return [*kept, push.model_copy(update={"state": PushState.APPROVED})]


def assemble_session_context(
    session: AgentSession,
    live: Sequence[Push],
    incidents: Mapping[str, Incident],
    *,
    changes: Mapping[str, Sequence[StoredSignal]],
    signals: Mapping[str, Sequence[StoredSignal]],
    catalog: Catalog,
    notes: Iterable[Note],
) -> SessionContext:
    """What the session should know, from its live pushes (in push order) and the rows they reach.

    ``incidents`` holds the incidents the live pushes name; ``changes`` and ``signals`` are keyed
    by incident id (signals: the latest :data:`SIGNAL_WINDOW`, oldest first) and need only cover
    the active ones; ``notes`` may hold more than the session's services, they are picked here.
    """
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
                changes=list(changes.get(incident.id, [])),
                signals=recent_signals(signals.get(incident.id, [])),
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
    services |= {
        service for path in session.paths for service, _ in match_path(catalog, session.repo, path)
    }
    picked = sorted(
        (n for n in notes if n.service in services and n.is_current), key=lambda n: n.number
    )
    stamps = [session.first_seen]
    stamps += [ic.incident.updated_at for ic in contexts]
    stamps += [p.decided_at for p in live if p.decided_at]
    stamps += [n.updated_at for n in picked]
    seq = max([p.live_seq or 0 for p in live], default=0)
    return SessionContext(session, contexts, picked, stand_downs, seq, max(stamps))


def recent_signals(latest: Sequence[StoredSignal]) -> list[StoredSignal]:
    """The newest signals with distinct titles, oldest first: a flapping alert shows once."""
    seen: set[str] = set()
    picked: list[StoredSignal] = []
    for stored in reversed(latest):
        if stored.signal.title not in seen:
            seen.add(stored.signal.title)
            picked.append(stored)
        if len(picked) >= RECENT_SIGNALS:
            break
    return list(reversed(picked))


def _replaced_by(push: Push, newer: Push) -> bool:
    return (
        push.incident_id == newer.incident_id
        and push.session_id == newer.session_id
        and push.kind is not PushKind.BROADCAST
        and newer.kind is not PushKind.BROADCAST
    )
