"""The words we tell agents: the default, engineer-editable guidance of a push.

Only our own structured facts appear here (service names and paths pass through
:func:`~oncall_tui.core.sanitize.identifier`); sender free text never does — it goes into the
fenced part of the context document.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncall_tui.core.models import Incident, IncidentState, Signal, StoredSignal
from oncall_tui.core.sanitize import identifier
from oncall_tui.core.targeting import Impact

MAX_PATHS_NAMED = 3


def _hhmm(when: datetime) -> str:
    return when.strftime("%H:%M UTC")


def _names(items: list[str]) -> str:
    return ", ".join(identifier(i) for i in items)


def change_summary(signal: Signal) -> str:
    """A deploy or rollback described from its structured fields only (no sender prose)."""
    labels = signal.labels
    version = labels.get("sha", "")[:7] or labels.get("version", "") or labels.get("ref", "")
    parts = [signal.kind.value, identifier(signal.service or "?")]
    if version:
        parts.append(identifier(version, 40))
    env = signal.environment or labels.get("environment")
    if env:
        parts.append(f"to {identifier(env, 40)}")
    return " ".join(parts)


def update_text(incident: Incident, impact: Impact, changes: list[StoredSignal]) -> str:
    degraded = _names(incident.services or ([incident.service] if incident.service else []))
    service = identifier(impact.service)
    state = incident.state.value
    lines = [
        f"**{degraded} is degraded** ({incident.severity.value}, {state} since {_hhmm(incident.opened_at)}).",
        f"Your work on `{service}` is affected.",
        "",
        "Until this incident is resolved:",
        f"- Stability mode for `{service}`: no refactors, no performance optimisations and no"
        " dependency upgrades in its code.",
        "- Keep timeouts, retries and circuit breakers exactly as they are; do not remove or loosen them.",
        "- Prefer small, reversible changes, and do not deploy this service without the on-call engineer.",
    ]
    if impact.files:
        named = ", ".join(f"`{identifier(f, 200)}`" for f in impact.files[-MAX_PATHS_NAMED:])
        lines.append(f"- Files you touched that belong to it: {named}.")
    if incident.deploy_freeze:
        lines.append(
            "- **Deploy freeze declared** by the on-call engineer: do not deploy, merge to release"
            " branches or run migrations until it is lifted."
        )
    if incident.state is IncidentState.MITIGATED:
        lines.append("- The impact is mitigated but not resolved: keep stability mode.")
    for change in changes[-MAX_PATHS_NAMED:]:
        lines.append(
            f"- Suspect change at {_hhmm(change.signal.occurred_at)}: {change_summary(change.signal)}."
            " Do not build on it until it is cleared."
        )
    return "\n".join(lines)


def stand_down_text(incident: Incident, services: list[str]) -> str:
    when = incident.resolved_at or incident.updated_at
    return (
        f"**{incident.id} is resolved** ({_hhmm(when)}). Stability mode for {_names(services)} is"
        " lifted: normal work may resume."
    )


def trigger(
    previous: dict[str, Any] | None,
    basis: dict[str, Any],
    changes: list[StoredSignal],
    *,
    first: bool,
) -> str:
    """Why a new version is proposed, in a few words for the approval queue."""
    if previous is None:
        return "incident opened" if first else "session now affected"
    reasons = []
    if previous.get("state") != basis["state"]:
        reasons.append(f"state {previous.get('state')} → {basis['state']}")
    if previous.get("severity") != basis["severity"]:
        reasons.append(f"severity {previous.get('severity')} → {basis['severity']}")
    added = [s for s in basis["services"] if s not in previous.get("services", [])]
    if added:
        reasons.append(f"now also {_names(added)}")
    if previous.get("freeze", False) != basis.get("freeze", False):
        reasons.append("deploy freeze declared" if basis.get("freeze") else "deploy freeze lifted")
    new_changes = [c for c in changes if c.id not in previous.get("changes", [])]
    if new_changes:
        reasons.append(f"suspect change: {change_summary(new_changes[-1].signal)}")
    return "; ".join(reasons) or "updated"
