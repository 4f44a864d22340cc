"""The inputs of the reports and of ``incident show``'s agent-assisted line, read from the DB.

Everything the join needs in a handful of queries: incidents with their suspect deploys, the
deploys' resolved ranges and the commits in them, sessions, and the journal entries that say
when each push was proposed, approved, rejected and read, and what the edit guard decided.
The join itself is pure (:mod:`oncall_tui.core.regressions`).
"""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime

from oncall_tui.core.agent_facts import FACT_KINDS, AgentFacts, agent_facts
from oncall_tui.core.agents import AgentSession
from oncall_tui.core.journal import JournalEntry
from oncall_tui.core.models import Incident
from oncall_tui.core.regressions import (
    AgentAssisted,
    IncidentFacts,
    JoinInputs,
    SessionFacts,
    SuspectDeploy,
    agent_assisted,
)
from oncall_tui.core.reports.model import (
    AgentsReport,
    RegressionReport,
    agents_report,
    regression_report,
)
from oncall_tui.store.commits import commits_by_sha, deploy_ranges
from oncall_tui.store.schema import JOURNAL_KIND_INDEXED

SUSPECT = "suspect"
"""The relation a change link has when the change may have caused the incident."""


def _incidents(conn: sqlite3.Connection, only: str | None = None) -> list[IncidentFacts]:
    suspects: dict[str, list[SuspectDeploy]] = {}
    rows = conn.execute(
        "SELECT l.incident_id, l.signal_id, s.occurred_at FROM change_links l"
        " JOIN signals s ON s.id = l.signal_id WHERE l.relation = ?"
        " ORDER BY s.occurred_at, s.id",
        (SUSPECT,),
    ).fetchall()
    for incident_id, signal_id, occurred_at in rows:
        suspects.setdefault(incident_id, []).append(
            SuspectDeploy(int(signal_id), datetime.fromisoformat(occurred_at))
        )
    query = "SELECT data FROM incidents" + (" WHERE id = ?" if only else "") + " ORDER BY number"
    found = []
    for (data,) in conn.execute(query, (only,) if only else ()):
        incident = Incident.model_validate_json(data)
        found.append(
            IncidentFacts(
                incident_id=incident.id,
                number=incident.number,
                title=incident.title,
                service=incident.service,
                opened_at=incident.signal_time,
                resolved_at=incident.resolved_at,
                suspects=tuple(suspects.get(incident.id, ())),
            )
        )
    return found


def _sessions(conn: sqlite3.Connection) -> dict[str, SessionFacts]:
    sessions = {}
    for (data,) in conn.execute("SELECT data FROM sessions ORDER BY id"):
        session = AgentSession.model_validate_json(data)
        sessions[session.id] = SessionFacts(
            session.id, session.agent.value, session.first_seen, session.last_seen
        )
    return sessions


def _facts(conn: sqlite3.Connection) -> AgentFacts:
    kinds = json.dumps(sorted(k.value for k in FACT_KINDS))
    rows = conn.execute(
        "SELECT seq, ts, actor, kind, body FROM journal"
        f" WHERE kind IN (SELECT value FROM json_each(?)) AND {JOURNAL_KIND_INDEXED}"
        " ORDER BY seq",
        (kinds,),
    )
    return agent_facts(
        JournalEntry(seq, datetime.fromisoformat(ts), actor, kind, json.loads(body))
        for seq, ts, actor, kind, body in rows
    )


def join_inputs(conn: sqlite3.Connection) -> JoinInputs:
    """Everything the join reads. Incidents are all of them: a commit in the window may have
    been made while an older incident on its service was burning."""
    incidents = _incidents(conn)
    ranges = deploy_ranges(conn, (s.signal_id for i in incidents for s in i.suspects))
    commits = commits_by_sha(conn, (sha for r in ranges.values() for sha in r.shas))
    return JoinInputs(incidents, ranges, commits, _sessions(conn), _facts(conn))


def fetch_regression_report(
    conn: sqlite3.Connection, since: datetime, until: datetime
) -> RegressionReport:
    return regression_report(join_inputs(conn), since, until)


def fetch_agents_report(conn: sqlite3.Connection, since: datetime, until: datetime) -> AgentsReport:
    inputs = JoinInputs((), {}, {}, _sessions(conn), _facts(conn))
    return agents_report(inputs, since, until)


def incident_evidence(conn: sqlite3.Connection, incident_id: str) -> AgentAssisted | None:
    """The agent-assisted evidence of one incident, or ``None``."""
    own = _incidents(conn, incident_id)
    if not own or not own[0].suspects:
        return None
    inputs = join_inputs(conn)
    return agent_assisted(inputs, own[0].incident_id)
