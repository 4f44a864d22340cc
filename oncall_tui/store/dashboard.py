"""The dashboard's reads: bounded pages, counts and sparklines, each one short query.

The dashboard never holds more than a page of rows per table; 10,000 incidents or a million
journal rows cost it the same as a hundred.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from oncall_tui.core.agents import AgentSession, Push
from oncall_tui.core.clock import iso
from oncall_tui.core.models import Incident
from oncall_tui.store import deliveries
from oncall_tui.store.queries import INCIDENT_ORDER

PAGE_SIZE = 100
SPARK_BUCKETS = 12
SPARK_BUCKET = timedelta(minutes=5)
_PART_ORDER = "ORDER BY severity_rank DESC, opened_at DESC, number DESC"
"""``INCIDENT_ORDER`` within one part (all open, or all resolved)."""
_RESOLVED_AT = "julianday(json_extract(data, '$.resolved_at'))"
"""Spelled as the ``incidents_resolved_at`` index spells it, so the index serves it."""


@dataclass(frozen=True)
class Counts:
    active_incidents: int
    affected_sessions: int
    pending_pushes: int
    rejected_deliveries: int
    max_seq: int


@dataclass(frozen=True)
class IncidentFilter:
    text: str = ""
    """Matches the id, service or title (case-insensitive)."""
    severity: str | None = None
    include_resolved: bool = False


@dataclass(frozen=True)
class IncidentPage:
    incidents: list[Incident]
    total: int
    rates: dict[str, list[int]] = field(default_factory=dict)
    """Signals per 5-minute bucket over the last hour, oldest first, per incident id."""


@dataclass(frozen=True)
class SessionRow:
    session: AgentSession
    push: Push | None
    """The latest push about the selected incident for this session (None when showing all)."""


def counts(conn: sqlite3.Connection) -> Counts:
    row = conn.execute(
        "SELECT (SELECT count(*) FROM incidents WHERE state != 'resolved'),"
        " (SELECT count(DISTINCT p.session_id) FROM pushes p JOIN incidents i ON i.id = p.incident_id"
        "   WHERE i.state != 'resolved' AND p.session_id IS NOT NULL"
        "   AND p.state IN ('pending', 'approved', 'delivered', 'acknowledged')),"
        " (SELECT count(*) FROM pushes WHERE state = 'pending'),"
        " (SELECT coalesce(max(seq), 0) FROM journal)"
    ).fetchone()
    return Counts(
        int(row[0]), int(row[1]), int(row[2]), deliveries.count_rejected(conn), int(row[3])
    )


def incident_page(
    conn: sqlite3.Connection,
    now: datetime,
    filt: IncidentFilter = IncidentFilter(),
    limit: int = PAGE_SIZE,
    *,
    resolved_since: datetime | None = None,
) -> IncidentPage:
    """A page of incidents, worst first; resolved ones only with ``filt.include_resolved``, or
    those resolved at or after ``resolved_since`` (kept in view a while, not gone at once).

    Open incidents come first and resolved ones after them (``INCIDENT_ORDER``). Without
    ``include_resolved`` the two parts are read apart: open ones in that order from an index of
    open incidents only (``incidents_open_order``), the recently resolved ones found by their
    resolution time (``incidents_resolved_at``), so a page costs its own rows however many
    incidents were ever resolved.
    """
    extra: list[str] = []
    params: list[object] = []
    if filt.severity:
        extra.append("json_extract(data, '$.severity') = ?")
        params.append(filt.severity)
    if filt.text:
        extra.append("(id LIKE ? OR service LIKE ? OR json_extract(data, '$.title') LIKE ?)")
        pattern = f"%{filt.text}%"
        params += [pattern, pattern, pattern]
    if filt.include_resolved:
        parts = [(extra, params, INCIDENT_ORDER)]
    else:
        parts = [(["state != 'resolved'", *extra], params, _PART_ORDER)]
        if resolved_since is not None:
            parts.append(
                (
                    [f"state = 'resolved' AND {_RESOLVED_AT} >= julianday(?)", *extra],
                    [iso(resolved_since), *params],
                    _PART_ORDER,
                )
            )
    total = 0
    rows: list[tuple[str]] = []
    for clauses, part_params, order in parts:
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        total += int(
            conn.execute(f"SELECT count(*) FROM incidents {where}", part_params).fetchone()[0]
        )
        if len(rows) < limit:
            rows += conn.execute(
                f"SELECT data FROM incidents {where} {order} LIMIT ?",
                (*part_params, limit - len(rows)),
            ).fetchall()
    incidents = [Incident.model_validate_json(r[0]) for r in rows]
    return IncidentPage(incidents, total, signal_rates(conn, [i.id for i in incidents], now))


def signal_rates(
    conn: sqlite3.Connection, incident_ids: list[str], now: datetime
) -> dict[str, list[int]]:
    if not incident_ids:
        return {}
    start = now - SPARK_BUCKET * SPARK_BUCKETS
    rates = {incident_id: [0] * SPARK_BUCKETS for incident_id in incident_ids}
    marks = ",".join("?" * len(incident_ids))
    # Counted in SQL: an incident in a storm has thousands of signals a minute, and this runs on
    # every refresh of the dashboard.
    rows = conn.execute(
        "SELECT incident_id, CAST((julianday(occurred_at) - julianday(?)) * 86400 / ? AS INTEGER),"
        f" count(*) FROM signals WHERE incident_id IN ({marks}) AND occurred_at >= ?"
        " GROUP BY 1, 2",
        (iso(start), SPARK_BUCKET.total_seconds(), *incident_ids, iso(start)),
    ).fetchall()
    for incident_id, bucket, count in rows:
        rates[incident_id][min(max(int(bucket), 0), SPARK_BUCKETS - 1)] += count
    return rates


def session_rows(
    conn: sqlite3.Connection, incident_id: str | None, limit: int = PAGE_SIZE
) -> list[SessionRow]:
    """Sessions the incident affects (with the push that says why), or every open session."""
    if incident_id is None:
        rows = conn.execute(
            "SELECT data FROM sessions WHERE ended_at IS NULL ORDER BY last_seen DESC LIMIT ?",
            (limit,),
        ).fetchall()
        return [SessionRow(AgentSession.model_validate_json(r[0]), None) for r in rows]
    rows = conn.execute(
        "SELECT s.data, p.data FROM pushes p JOIN sessions s ON s.id = p.session_id"
        " WHERE p.incident_id = ? AND p.number = (SELECT max(number) FROM pushes q"
        "   WHERE q.incident_id = p.incident_id AND q.session_id = p.session_id)"
        " ORDER BY s.last_seen DESC LIMIT ?",
        (incident_id, limit),
    ).fetchall()
    return [
        SessionRow(AgentSession.model_validate_json(s), Push.model_validate_json(p))
        for s, p in rows
    ]


def push_rows(
    conn: sqlite3.Connection,
    incident_id: str | None,
    *,
    states: tuple[str, ...] = ("pending",),
    limit: int = PAGE_SIZE,
) -> list[Push]:
    marks = ",".join("?" * len(states))
    params: list[object] = list(states)
    where = f"state IN ({marks})"
    if incident_id is not None:
        where += " AND incident_id = ?"
        params.append(incident_id)
    rows = conn.execute(
        f"SELECT data FROM pushes WHERE {where} ORDER BY number DESC LIMIT ?", (*params, limit)
    ).fetchall()
    return [Push.model_validate_json(r[0]) for r in rows]


def session_pushes(conn: sqlite3.Connection, session_id: str, limit: int = 100) -> list[Push]:
    rows = conn.execute(
        "SELECT data FROM pushes WHERE session_id = ? ORDER BY number DESC LIMIT ?",
        (session_id, limit),
    ).fetchall()
    return [Push.model_validate_json(r[0]) for r in rows]
