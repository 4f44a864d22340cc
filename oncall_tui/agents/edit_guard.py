"""Before an agent edits a file: does the edit touch a service under an active incident?

A file concerns an incident when its service is in the blast radius (the degraded services and
their dependents) or among the services of a live push the session received about it. Answering
needs the catalog's globs (:mod:`oncall_tui.core.topology`, pydantic), whose import alone costs
more than a hook may take, so answers are cached in one ``meta`` row, keyed by a digest of every
row they were computed from: any change to an active incident, the catalog or the session's live
pushes gives a new key, and the row is dropped when the incidents or catalog change.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from contextlib import suppress
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from oncall_tui.agents.hook_view import ACTIVE, LIVE
from oncall_tui.core.sanitize import display_text, identifier

if TYPE_CHECKING:
    from oncall_tui.core.models import Incident

CACHE_KEY = "hook_edit_warnings"
CACHE_ENTRIES = 512
"""Cached answers per state of the incidents and catalog; past it the cache starts over."""
CACHE_BUSY_TIMEOUT_MS = 50
"""Caching is optional: it never waits long for a writer that holds the lock."""
DEFAULT_ADVICE = (
    "Until it is resolved keep its timeouts, retries and circuit breakers as they are and make no"
    " refactors or optimisations there; go ahead only if the on-call engineer agrees."
)


@dataclass(frozen=True)
class GuardInputs:
    """Every row a warning depends on, as stored: the cache key is their digest."""

    incidents: list[str]
    """Active incidents' JSON, most severe first."""
    catalog: list[tuple[str, str]]
    told: list[tuple[str, str | None, str | None, str | None]]
    """The session's live updates: incident, services (JSON), edited_by, guidance."""

    @cached_property
    def state_key(self) -> str:
        return _digest([self.incidents, self.catalog])

    def answer_key(self, repo: str | None, path: str) -> str:
        return _digest([self.state_key, self.told, repo, path])


def read_inputs(conn: sqlite3.Connection, session_id: str) -> GuardInputs:
    incidents = conn.execute(
        f"SELECT data FROM incidents WHERE state IN {ACTIVE} ORDER BY severity_rank DESC, number"
    ).fetchall()
    if not incidents:
        return GuardInputs([], [], [])
    catalog = conn.execute("SELECT name, data FROM catalog ORDER BY name").fetchall()
    told = conn.execute(
        f"SELECT incident_id, json_extract(data, '$.services'), json_extract(data, '$.edited_by'),"
        f" json_extract(data, '$.guidance') FROM pushes"
        f" WHERE session_id = ? AND +state IN {LIVE} AND kind = 'update' ORDER BY number",
        (session_id,),
    ).fetchall()
    return GuardInputs([r[0] for r in incidents], [tuple(r) for r in catalog], told)


def edit_warning(
    conn: sqlite3.Connection,
    session_id: str,
    repo: str | None,
    paths: list[str],
    *,
    remember: bool = True,
) -> str | None:
    """Why an edit of ``paths`` needs the human's eye, or None when no active incident concerns
    it; the first path that concerns one, in the order given, is named. ``remember=False`` when
    the caller knows another process holds the write lock: caching the answer would only wait."""
    if not paths:
        return None
    inputs = read_inputs(conn, session_id)
    if not inputs.incidents:
        return None
    state = inputs.state_key
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (CACHE_KEY,)).fetchone()
    cache: dict[str, Any] = json.loads(row[0]) if row else {}
    answers: dict[str, str | None] = cache.get("answers", {}) if cache.get("state") == state else {}
    keys = {path: inputs.answer_key(repo, path) for path in paths}
    missing = [path for path in paths if keys[path] not in answers]
    if missing:
        answers = {} if len(answers) + len(missing) > CACHE_ENTRIES else answers
        answers.update(
            {keys[p]: w for p, w in zip(missing, compute(inputs, repo, missing), strict=True)}
        )
        if remember:
            _store(conn, {"state": state, "answers": answers})
    return next((answers[keys[p]] for p in paths if answers[keys[p]] is not None), None)


def compute(inputs: GuardInputs, repo: str | None, paths: list[str]) -> list[str | None]:
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
) -> str | None:
    owned = [name for name, _glob in matches]
    for incident, chains in radii:
        services_told, advice = told.get(incident.id, (set(), None))
        for service in owned:
            if service in chains or service in services_told:
                return _reason(incident, path, chains.get(service, [service]), advice)
    return None


def _told(inputs: GuardInputs) -> dict[str, tuple[set[str], str | None]]:
    """Per incident: the services of the session's live updates, and the engineer's own words."""
    told: dict[str, tuple[set[str], str | None]] = {}
    for incident_id, services, edited_by, guidance in inputs.told:
        first_line = next((line for line in str(guidance or "").splitlines() if line.strip()), "")
        advice = display_text(first_line, 240) if edited_by and first_line else None
        told[incident_id] = (set(json.loads(services or "[]")), advice)
    return told


def _reason(incident: Incident, path: str, chain: list[str], advice: str | None) -> str:
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


def _store(conn: sqlite3.Connection, cache: dict[str, Any]) -> None:
    """Best effort, in autocommit: a busy DB or a read-only file just means no cache this time."""
    previous = int(conn.execute("PRAGMA busy_timeout").fetchone()[0])
    conn.execute(f"PRAGMA busy_timeout = {CACHE_BUSY_TIMEOUT_MS}")
    try:
        with suppress(sqlite3.Error):
            conn.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (CACHE_KEY, json.dumps(cache, separators=(",", ":"))),
            )
    finally:
        conn.execute(f"PRAGMA busy_timeout = {previous}")


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, separators=(",", ":")).encode()).hexdigest()[:32]
