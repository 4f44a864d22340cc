"""Before an agent edits a file: does the edit touch a service under an active incident?

A file concerns an incident when its service is in the blast radius (the degraded services and
their dependents) or among the services of a live push the session received about it. Answering
needs the catalog's globs (:mod:`oncall_tui.core.topology`, pydantic), whose import alone costs
more than a hook may take, so answers are cached in one ``meta`` row, keyed by a digest of every
row they were computed from: any change to an active incident, the catalog or the session's live
pushes gives a new key, and the row is dropped when the incidents or catalog change.
"""

from __future__ import annotations

import json
import sqlite3

from oncall_tui.core.frozen import Frozen
from oncall_tui.store.hook_queries import (
    GuardInputs,
    read_guard_cache,
    read_guard_inputs,
    write_guard_cache,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Final

    from oncall_tui.core.models import Incident

CACHE_ENTRIES = 512
"""Cached answers per state of the incidents and catalog; past it the cache starts over."""
CACHE_FORMAT = 2
"""Each cached answer is ``[reason, incident id, service]`` (or null); a cache written in
another form is read as empty."""
DEFAULT_ADVICE = (
    "Until it is resolved keep its timeouts, retries and circuit breakers as they are and make no"
    " refactors or optimisations there; go ahead only if the on-call engineer agrees."
)


Answer = list[str] | None
"""``[reason, incident id, service]`` for a path under an incident, else None (JSON-friendly)."""


class GuardFinding(Frozen):
    """Why a tool call needs the engineer: the first guarded path's reason, its incident and
    service, and every path of the call that the same incident guards (in the order given)."""

    __slots__ = ("reason", "incident_id", "service", "paths")

    def __init__(self, reason: str, incident_id: str, service: str, paths: tuple[str, ...]) -> None:
        self.reason: Final = reason
        self.incident_id: Final = incident_id
        self.service: Final = service
        self.paths: Final = paths


def edit_finding(
    conn: sqlite3.Connection,
    session_id: str,
    repo: str | None,
    paths: list[str],
    *,
    remember: bool = True,
) -> GuardFinding | None:
    """Why an edit of ``paths`` needs the human's eye, or None when no active incident concerns
    it; the first path that concerns one, in the order given, is named. ``remember=False`` when
    the caller knows another process holds the write lock: caching the answer would only wait."""
    if not paths:
        return None
    inputs = read_guard_inputs(conn, session_id)
    if not inputs.incidents:
        return None
    state = inputs.state_key
    cache = read_guard_cache(conn)
    fresh = cache.get("state") == state and cache.get("format") == CACHE_FORMAT
    answers: dict[str, Answer] = cache.get("answers", {}) if fresh else {}
    keys = {path: inputs.answer_key(repo, path) for path in paths}
    missing = [path for path in paths if keys[path] not in answers]
    if missing:
        answers = {} if len(answers) + len(missing) > CACHE_ENTRIES else answers
        answers.update(
            {keys[p]: w for p, w in zip(missing, compute(inputs, repo, missing), strict=True)}
        )
        if remember:
            write_guard_cache(conn, {"state": state, "format": CACHE_FORMAT, "answers": answers})
    found = [(p, answer) for p in paths if (answer := answers[keys[p]]) is not None]
    if not found:
        return None
    reason, incident_id, service = found[0][1]
    same = tuple(p for p, answer in found if answer[1] == incident_id)
    return GuardFinding(reason, incident_id, service, same)


def edit_warning(
    conn: sqlite3.Connection,
    session_id: str,
    repo: str | None,
    paths: list[str],
    *,
    remember: bool = True,
) -> str | None:
    """The reason of :func:`edit_finding` alone."""
    finding = edit_finding(conn, session_id, repo, paths, remember=remember)
    return finding.reason if finding else None


def compute(inputs: GuardInputs, repo: str | None, paths: list[str]) -> list[Answer]:
    """The warning for each path, from the rows alone (no IO).

    The most severe incident wins. The reason holds only our structured facts: incident titles
    come from senders and must not reach the agent outside a fence.
    """
    from oncall_tui.core.models import Incident
    from oncall_tui.core.topology import Catalog, Service, blast_radius, match_path

    services = {name: Service.model_validate_json(data) for name, data in inputs.catalog}
    catalog = Catalog(services=services, source="store")
    told = _told(inputs)
    radii: list[tuple[Incident, dict[str, list[str]]]] = []
    for raw in inputs.incidents:
        incident = Incident.model_validate_json(raw)
        degraded = incident.services or ([incident.service] if incident.service else [])
        radii.append((incident, blast_radius(catalog, degraded)))
    return [_warning(path, match_path(catalog, repo, path), radii, told) for path in paths]


def _warning(
    path: str,
    matches: list[tuple[str, str]],
    radii: list[tuple[Incident, dict[str, list[str]]]],
    told: dict[str, tuple[set[str], str | None]],
) -> Answer:
    owned = [name for name, _glob in matches]
    for incident, chains in radii:
        services_told, advice = told.get(incident.id, (set(), None))
        for service in owned:
            if service in chains or service in services_told:
                reason = _reason(incident, path, chains.get(service, [service]), advice)
                return [reason, incident.id, service]
    return None


def _told(inputs: GuardInputs) -> dict[str, tuple[set[str], str | None]]:
    """Per incident: the services of the session's live updates, and the engineer's own words."""
    from oncall_tui.core.sanitize import display_text  # only to compute: cached answers do not

    told: dict[str, tuple[set[str], str | None]] = {}
    for incident_id, services, edited_by, guidance in inputs.told:
        first_line = next((line for line in str(guidance or "").splitlines() if line.strip()), "")
        advice = display_text(first_line, 240) if edited_by and first_line else None
        told[incident_id] = (set(json.loads(services or "[]")), advice)
    return told


def _reason(incident: Incident, path: str, chain: list[str], advice: str | None) -> str:
    from oncall_tui.core.sanitize import identifier

    relation = (
        f"which depends on {identifier(chain[-1])} (degraded)"
        if len(chain) > 1
        else "which is degraded"
    )
    head = (
        f"{incident.id} ({incident.severity.value}, {incident.state.value}):"
        f" {identifier(path, 200)} belongs to {identifier(chain[0])}, {relation}."
    )
    return f"{head} {advice or DEFAULT_ADVICE}"
