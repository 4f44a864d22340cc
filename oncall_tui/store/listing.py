"""The projection's incidents and pushes as plain JSON documents, for the listing commands.

``oncall-tui incidents`` and ``oncall-tui pushes`` print what the projection tables hold; going
through the pydantic models would cost more than the whole listing (importing pydantic alone
takes ~110 ms). A row is the model's own ``model_dump_json``, so parsing it with :mod:`json`
gives what ``model_dump(mode="json")`` of the validated model gives — as long as the row was
written by the current model. A row from an older model (a field missing, since added with a
default) is passed through the model instead, so the output is the same either way.

Standard library only at import; pydantic is imported only for such an older row.
"""

from __future__ import annotations

import json
import sqlite3
from typing import Any

INCIDENT_ORDER = "ORDER BY (state = 'resolved'), severity_rank DESC, opened_at DESC, number DESC"
"""Active first, then the most severe, then the newest (shared with :mod:`.queries`)."""

INCIDENT_FIELDS = frozenset(
    {
        "id",
        "number",
        "title",
        "service",
        "services",
        "severity",
        "state",
        "opened_at",
        "signal_started_at",
        "updated_at",
        "acknowledged_at",
        "mitigated_at",
        "resolved_at",
        "alert_keys",
        "resolved_alert_keys",
        "sources",
        "signal_count",
        "last_signal_at",
        "links",
        "deploy_freeze",
    }
)
"""The fields of :class:`~oncall_tui.core.models.Incident` (a test holds the two equal)."""

LINK_FIELDS = frozenset({"href", "text"})
"""The fields of :class:`~oncall_tui.core.models.Link`."""

PUSH_FIELDS = frozenset(
    {
        "id",
        "number",
        "incident_id",
        "session_id",
        "audience",
        "kind",
        "version",
        "state",
        "trigger",
        "reason",
        "services",
        "guidance",
        "proposed_at",
        "decided_at",
        "decided_by",
        "reject_reason",
        "edited_by",
        "delivered_at",
        "delivered_via",
        "acknowledged_at",
        "supersedes",
        "superseded_by",
        "auto_approved_by",
        "recipients",
        "live_seq",
        "notice",
        "proposed_seq",
        "announced_via",
        "basis",
    }
)
"""The fields of :class:`~oncall_tui.core.agents.Push` (a test holds the two equal)."""


def incident_rows(
    conn: sqlite3.Connection,
    *,
    include_resolved: bool = False,
    limit: int = 500,
    service: str | None = None,
) -> list[str]:
    """The ``data`` of the incidents a listing shows, in its order (JSON, not parsed)."""
    clauses = []
    params: list[object] = []
    if not include_resolved:
        clauses.append("state != 'resolved'")
    if service:
        clauses.append("service = ?")
        params.append(service)
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"SELECT data FROM incidents {where} {INCIDENT_ORDER} LIMIT ?", (*params, limit)
    ).fetchall()
    return [str(r[0]) for r in rows]


def list_incidents(
    conn: sqlite3.Connection,
    *,
    include_resolved: bool = False,
    limit: int = 500,
    service: str | None = None,
) -> list[dict[str, Any]]:
    """What :func:`~oncall_tui.store.queries.list_incidents` finds, as JSON documents."""
    rows = incident_rows(conn, include_resolved=include_resolved, limit=limit, service=service)
    return [_incident_document(data) for data in rows]


def list_pushes(
    conn: sqlite3.Connection, *, state: str | None, incident: str | None, limit: int
) -> list[dict[str, Any]]:
    """The newest ``limit`` pushes (in ``state``, about ``incident``), oldest first."""
    clauses, params = [], []
    if state:
        clauses.append("state = ?")
        params.append(state)
    if incident:
        clauses.append("incident_id = ?")
        params.append(incident.upper())
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    rows = conn.execute(
        f"SELECT data FROM pushes {where} ORDER BY number DESC LIMIT ?", (*params, limit)
    ).fetchall()
    return [_push_document(r[0]) for r in reversed(rows)]


def _incident_document(data: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(data)
    links = document.get("links")
    current = (
        document.keys() == INCIDENT_FIELDS
        and isinstance(links, list)
        and all(isinstance(link, dict) and link.keys() == LINK_FIELDS for link in links)
    )
    if current:
        return document
    from oncall_tui.core.models import Incident

    return Incident.model_validate_json(data).model_dump(mode="json")


def _push_document(data: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(data)
    if document.keys() == PUSH_FIELDS:
        return document
    from oncall_tui.core.agents import Push

    return Push.model_validate_json(data).model_dump(mode="json")
