"""Which agent sessions an incident affects, and a reason an engineer can check before approving."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from oncall_tui.core.agents import AgentSession
from oncall_tui.core.models import Incident
from oncall_tui.core.sanitize import identifier
from oncall_tui.core.topology import (
    Catalog,
    blast_radius,
    describe_path,
    match_path,
    services_for_repo,
)

MAX_FILES_NAMED = 3


@dataclass(frozen=True)
class Impact:
    """One session affected by one incident."""

    session_id: str
    service: str
    """The service of the session's code that is in the blast radius."""
    path: tuple[str, ...]
    """Dependency path from ``service`` down to a degraded service."""
    files: tuple[str, ...]
    """Touched files that map to ``service`` (empty when matched by repo only)."""
    reason: str
    also: tuple[str, ...] = ()
    """Other affected services the same files belong to (ambiguous ownership)."""

    @property
    def services(self) -> list[str]:
        return list(dict.fromkeys([self.service, *self.also, *self.path]))


def affected_sessions(
    incident: Incident, catalog: Catalog, sessions: Iterable[AgentSession]
) -> list[Impact]:
    """Every session whose files (or, lacking files, whose repo) map into the blast radius."""
    degraded = incident.services or ([incident.service] if incident.service else [])
    if not degraded:
        return []
    radius = blast_radius(catalog, degraded)
    severities = dict.fromkeys(degraded, incident.severity.value)
    impacts = []
    for session in sessions:
        impact = _impact(session, catalog, radius, severities)
        if impact is not None:
            impacts.append(impact)
    return impacts


def _impact(
    session: AgentSession,
    catalog: Catalog,
    radius: Mapping[str, list[str]],
    severities: Mapping[str, str],
) -> Impact | None:
    files_by_service: dict[str, list[str]] = {}
    for file in session.paths:
        for service, _glob in match_path(catalog, session.repo, file):
            if service in radius:
                files_by_service.setdefault(service, []).append(file)
    if files_by_service:
        # The closest service to the failure is the most relevant; ties alphabetically.
        ranked = sorted(files_by_service, key=lambda s: (len(radius[s]), s))
        service = ranked[0]
        files = tuple(files_by_service[service])
        reason = f"edits {_name_files(files)} → {describe_path(radius[service], severities)}"
        also = tuple(ranked[1:])
        if also:
            reason += f" (also {', '.join(also)})"
        return Impact(session.id, service, tuple(radius[service]), files, reason, also)
    if session.paths or session.repo is None:
        return None
    in_repo = sorted(
        (s for s in services_for_repo(catalog, session.repo) if s in radius),
        key=lambda s: (len(radius[s]), s),
    )
    if not in_repo:
        return None
    service = in_repo[0]
    repo = identifier(session.repo, 200)
    reason = f"works in {repo}, the repo of {describe_path(radius[service], severities)}"
    return Impact(session.id, service, tuple(radius[service]), (), reason, tuple(in_repo[1:]))


def _name_files(files: tuple[str, ...]) -> str:
    # Paths come from the agent (hook input, POST /sessions): the reason stands outside the
    # untrusted-data fence of a context document, so they are named as identifiers (a space or
    # a backtick becomes ``_``), never as free text that could read as an instruction.
    named = ", ".join(identifier(f, 200) for f in files[-MAX_FILES_NAMED:])
    more = len(files) - MAX_FILES_NAMED
    return f"{named} (+{more} more)" if more > 0 else named
