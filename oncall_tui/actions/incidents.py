"""Engineer actions on incidents."""

from __future__ import annotations

from oncall_tui.actions import Rules, find_incident, reconcile
from oncall_tui.core import incidents
from oncall_tui.core.incidents import TransitionError
from oncall_tui.core.journal import FreezeChanged
from oncall_tui.core.models import Incident, IncidentState
from oncall_tui.store.journal import Store


def change_incident_state(
    store: Store, incident_id: str, state: IncidentState, actor: str, rules: Rules, reason: str = ""
) -> Incident:
    """Acknowledge, mitigate, resolve or reopen an incident; returns it as it is afterwards."""
    with store.write(durable=True) as writer:
        current = find_incident(writer, incident_id)
        change = incidents.change_state(
            current, state, store.clock.now(), reason or f"{state.value} by {actor}"
        )
        writer.append(change, actor=actor)
        reconcile(writer, [current.id], rules)
        updated = writer.tables.get_incident(current.id)
    assert updated is not None
    return updated


def declare_freeze(
    store: Store, incident_id: str, frozen: bool, actor: str, rules: Rules
) -> Incident:
    """Declare (or lift) a deploy freeze: a material change, so affected agents are told."""
    with store.write(durable=True) as writer:
        current = find_incident(writer, incident_id)
        if not current.is_active:
            raise TransitionError(f"{current.id} is resolved")
        writer.append(
            FreezeChanged(current.id, frozen, actor, store.clock.now().isoformat()), actor=actor
        )
        reconcile(writer, [current.id], rules)
        updated = writer.tables.get_incident(current.id)
    assert updated is not None
    return updated
