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
from oncall_tui.core.models import Incident, Link, StoredSignal
from oncall_tui.core.topology import Catalog, Service, match_path

RECENT_SIGNALS = 5
"""Distinct recent signals shown per incident: enough to recognise it, short enough to read."""
SIGNAL_WINDOW = 50
"""How many of an incident's latest signals are searched for those distinct recent ones."""


def assume_approval(pushes: Sequence[Push], push: Push) -> list[Push]:
    """The session's pushes as they would be once ``push`` is approved: the preview an engineer
    sees before deciding, so it replaces what that approval would supersede."""
    kept = [
        p.model_copy(update={"state": PushState.SUPERSEDED}) if _replaced_by(p, push) else p
        for p in pushes
        if p.id != push.id
    ]
    approved = push.model_copy(update={"state": PushState.APPROVED})
    return sorted([*kept, approved], key=lambda p: p.number)


def context_incident_ids(pushes: Iterable[Push]) -> set[str]:
    """The incidents a session's pushes can bring into its context: the rows a fetcher needs."""
    return {p.incident_id for p in pushes if p.state.is_live or p.announced}


def assemble_session_context(
    session: AgentSession,
    pushes: Sequence[Push],
    incidents: Mapping[str, Incident],
    *,
    changes: Mapping[str, Sequence[StoredSignal]],
    signals: Mapping[str, Sequence[StoredSignal]],
    catalog: Catalog,
    notes: Iterable[Note],
    contact: str | None = None,
) -> SessionContext:
    """What the session should know, from all its pushes (in push order) and the rows they reach.

    An incident comes in through the session's approved pushes, or, while its update awaits the
    engineer, as a notice that it is being assessed: product words only, so no sender text and
    no suspect change goes with it. ``incidents`` holds those of :func:`context_incident_ids`;
    ``changes`` and ``signals`` are keyed by incident id (signals: the latest
    :data:`SIGNAL_WINDOW`, oldest first) and need only cover the active ones; ``notes`` may hold
    more than the session's services, they are picked here. ``contact`` names the on-call
    engineer where no human approved the guidance.
    """
    live = [p for p in pushes if p.state.is_live]
    contexts = []
    for incident in sorted(incidents.values(), key=lambda i: (-i.severity.rank, i.number)):
        if not incident.is_active:
            continue
        mine = [p for p in live if p.incident_id == incident.id]
        updates = [p for p in mine if p.kind is PushKind.UPDATE]
        broadcasts = [p for p in mine if p.kind is PushKind.BROADCAST]
        waiting = [p for p in pushes if p.announced and p.incident_id == incident.id]
        notice = waiting[-1] if waiting and not updates else None
        if not mine and notice is None:
            continue
        push = updates[-1] if updates else None
        approved_by = push.decided_by if push and not push.auto_approved_by else None
        said = bool(mine)  # a notice alone carries product words only
        contexts.append(
            IncidentContext(
                incident=incident,
                push=push,
                broadcasts=broadcasts,
                changes=list(changes.get(incident.id, [])) if said else [],
                signals=recent_signals(signals.get(incident.id, [])) if said else [],
                notice=notice,
                owners=_owners(catalog, incident),
                runbooks=_runbooks(catalog, incident),
                contact=approved_by or contact,
            )
        )
    services = {s for ic in contexts for p in ic.carried for s in p.services}
    services |= {
        service for path in session.paths for service, _ in match_path(catalog, session.repo, path)
    }
    picked = sorted(
        (n for n in notes if n.service in services and n.is_current), key=lambda n: n.number
    )
    still = [ic.incident.id for ic in contexts]
    stamps = [session.first_seen]
    stamps += [ic.incident.updated_at for ic in contexts]
    stamps += [p.decided_at for p in live if p.decided_at]
    stamps += [ic.notice.proposed_at for ic in contexts if ic.notice]
    stamps += [n.updated_at for n in picked]
    seq = max([p.live_seq or 0 for p in live], default=0)
    seq = max([seq, *(ic.notice.proposed_seq or 0 for ic in contexts if ic.notice)])
    return SessionContext(
        session,
        contexts,
        picked,
        _stand_downs(pushes, incidents),
        seq,
        max(stamps),
        still_concerned=still,
    )


def _stand_downs(pushes: Sequence[Push], incidents: Mapping[str, Incident]) -> list[Push]:
    """Live stand-downs worth saying: of incidents the agent demonstrably heard of (a hook
    printed or an MCP client read a push of it), and not said yet. An agent never told of an
    incident gains nothing from hearing it is over, and a file proves no reading."""
    heard = {p.incident_id for p in pushes if p.kind is not PushKind.STAND_DOWN and p.told_directly}
    return [
        p
        for p in pushes
        if p.kind is PushKind.STAND_DOWN
        and p.state.is_live
        and not p.told_directly
        and p.incident_id in heard
        and p.incident_id in incidents
        and not incidents[p.incident_id].is_active
    ]


def _incident_services(catalog: Catalog, incident: Incident) -> list[Service]:
    names = incident.services or ([incident.service] if incident.service else [])
    return [catalog.services[name] for name in names if name in catalog.services]


def _owners(catalog: Catalog, incident: Incident) -> list[str]:
    return list(dict.fromkeys(o for s in _incident_services(catalog, incident) for o in s.owners))


def _runbooks(catalog: Catalog, incident: Incident) -> list[Link]:
    found = [link for s in _incident_services(catalog, incident) for link in s.runbooks]
    return list({link.href: link for link in found}.values())


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
