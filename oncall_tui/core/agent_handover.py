"""A new session of an agent starts with what the agent was last told.

Guidance is addressed to a session. When the agent restarts, resumes or forks (same kind,
worktree and branch: :mod:`~oncall_tui.core.agent_identity`), its new session would otherwise
start knowing nothing of the incidents the engineer already briefed it on, and would wait for
its first edit and a fresh approval to hear of them again. So the current version of each of
the agent's live updates is carried over to the new session, already approved (the engineer
approved that guidance for this agent), as a push of its own: delivery, acknowledgement and
later versions then follow the new session as they would for any other.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from oncall_tui.core.agents import AgentSession, Push, PushKind
from oncall_tui.core.journal import PushApproved, PushProposed
from oncall_tui.core.pushes import push_id

SAME_AGENT_RULE = "same-agent"
"""The approval rule journaled for a carried push: the engineer approved it for the agent."""


def handover_events(
    session: AgentSession,
    predecessors: Collection[str],
    pushes: Sequence[Push],
    next_number: int,
    now: datetime,
) -> list[PushProposed | PushApproved]:
    """Propose and approve, for ``session``, the latest live update each incident in ``pushes``
    gave to one of ``predecessors`` (the agent's other session ids).

    Nothing is carried for an incident the session already has a push about (registering
    again, as a resumed session does, changes nothing).
    """
    events: list[PushProposed | PushApproved] = []
    number = next_number
    for incident_id in dict.fromkeys(p.incident_id for p in pushes):
        of_incident = [p for p in pushes if p.incident_id == incident_id]
        if any(p.session_id == session.id for p in of_incident):
            continue
        live = [
            p
            for p in of_incident
            if p.session_id in predecessors and p.kind is PushKind.UPDATE and p.state.is_live
        ]
        if not live:
            continue
        told = max(live, key=lambda p: p.number)
        carried = Push(
            id=push_id(number),
            number=number,
            incident_id=incident_id,
            session_id=session.id,
            kind=PushKind.UPDATE,
            trigger=f"continues {told.session_id}",
            reason=told.reason,
            services=told.services,
            guidance=told.guidance,
            edited_by=told.edited_by,
            proposed_at=now,
            basis=told.basis,
        )
        events += [PushProposed(carried), PushApproved(carried.id, "policy", SAME_AGENT_RULE)]
        number += 1
    return events
