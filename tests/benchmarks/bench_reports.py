"""``report regressions`` over 1,000 incidents and 10,000 commits, beside reading the same rows.

The DB is built fast: every entry written through the journal writer in one transaction (each
incident: its alert and a suspect deploy, the deploy's range of ten commits, half of them made in
agent sessions, and a push per incident proposed, approved and read by a hook). The measured
figure is what the command does in process: fetch the join's inputs, join, and render the JSON
and the table. The baseline reads the same rows with plain SQL and parses their JSON, the floor
of any report over them. Target: at most 2 s.
"""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.benchmarks._common import Result, workdir

TARGET_S = 2.0
COMMITS_PER_DEPLOY = 10
SESSIONS = 50
SERVICES = 20
START = datetime(2026, 10, 1, tzinfo=UTC)


def build(db: Path, incidents: int) -> None:
    """Write the story of ``incidents`` regressions into ``db``, one transaction."""
    from oncall_tui.core.agents import AgentKind, AgentSession, Push, PushKind
    from oncall_tui.core.clock import FixedClock
    from oncall_tui.core.commits import Commit, CommitSource, DeployRange
    from oncall_tui.core.journal import (
        ChangeLinked,
        CommitRecorded,
        ContextDelivered,
        DeployRangeResolved,
        IncidentOpened,
        PushApproved,
        PushProposed,
        SessionRegistered,
        SignalRecorded,
    )
    from oncall_tui.core.models import Severity, Signal, SignalKind, SignalStatus
    from oncall_tui.store.journal import Store

    store = Store.open(db, FixedClock(START))
    kinds = list(AgentKind)
    with store.write() as writer:
        for s in range(SESSIONS):
            session = AgentSession(
                id=f"s-{s:03d}",
                agent=kinds[s % len(kinds)],
                repo=f"acme/svc-{s % SERVICES:02d}",
                first_seen=START,
                last_seen=START + timedelta(days=40),
            )
            writer.append(SessionRegistered(session), "agent:bench", START)
        for n in range(1, incidents + 1):
            service = f"svc-{n % SERVICES:02d}"
            opened = START + timedelta(minutes=40 * n)
            deployed = opened - timedelta(minutes=10)

            def signal(
                kind: SignalKind, at: datetime, key: str, n: int = n, service: str = service
            ) -> Signal:
                status = SignalStatus.SUCCESS if kind.is_change else SignalStatus.FIRING
                return Signal(
                    source="bench",
                    kind=kind,
                    service=service,
                    severity=Severity.CRITICAL,
                    status=status,
                    title=f"{key} {n}",
                    occurred_at=at,
                    received_at=at,
                    delivery_key=f"{key}-{n}",
                    alert_key=f"{key}-{n}",
                )

            deploy = writer.append(
                SignalRecorded(signal(SignalKind.DEPLOY, deployed, "deploy")), "system", deployed
            )
            alert = writer.append(
                SignalRecorded(signal(SignalKind.ALERT, opened, "alert")), "system", opened
            )
            incident_id = f"INC-{n}"
            writer.append(
                IncidentOpened(
                    incident_id,
                    n,
                    f"errors {n}",
                    service,
                    "critical",
                    alert.seq,
                    opened.isoformat(),
                ),
                "system",
                opened,
            )
            writer.append(ChangeLinked(incident_id, deploy.seq, "suspect"), "system", opened)
            session_id = f"s-{n % SESSIONS:03d}"
            shas = tuple(f"{n:08x}{c:032x}" for c in range(COMMITS_PER_DEPLOY))
            for c, sha in enumerate(shas):
                agent = c % 2 == 0
                committed = deployed - timedelta(minutes=20 - c)
                commit = Commit(
                    sha=sha,
                    repo=f"acme/{service}",
                    authored_at=committed,
                    subject=f"change {c} of {n}",
                    files=(f"src/{service}/m{c}.py",),
                    session_id=session_id if agent else None,
                    agent=kinds[n % SESSIONS % len(kinds)].value if agent else None,
                    source=CommitSource.HOOK if agent else None,
                )
                writer.append(CommitRecorded(commit), "system", committed)
            writer.append(
                DeployRangeResolved(
                    DeployRange(deploy.seq, service, f"acme/{service}", shas[0], None, shas)
                ),
                "system",
                deployed,
            )
            push = Push(
                id=f"P-{n}",
                number=n,
                incident_id=incident_id,
                session_id=session_id,
                kind=PushKind.UPDATE,
                trigger="opened",
                services=[service],
                proposed_at=opened,
            )
            writer.append(PushProposed(push), "system", opened)
            writer.append(PushApproved(push.id, "user:bench"), "user:bench", opened)
            writer.append(ContextDelivered(session_id, [push.id], "hook", 0), "agent:bench", opened)
    store.close()


def measure(db: Path, since: datetime, until: datetime) -> tuple[float, int]:
    """Seconds of one ``report regressions`` (json and table), and how many it flagged."""
    from oncall_tui.core.reports.model import report_json
    from oncall_tui.core.reports.table import regressions_table
    from oncall_tui.store.journal import Store
    from oncall_tui.store.reports import fetch_regression_report

    store = Store.open(db)
    try:
        started = time.perf_counter()
        report = fetch_regression_report(store.conn, since, until)
        report_json(report)
        regressions_table(report)
        return time.perf_counter() - started, len(report.agent_assisted)
    finally:
        store.close()


def plain_sql(db: Path) -> float:
    """Seconds to read the same rows with plain SQL and parse their JSON."""
    from oncall_tui.core.agent_facts import FACT_KINDS

    conn = sqlite3.connect(db)
    try:
        started = time.perf_counter()
        for table in ("incidents", "deploy_ranges", "commits", "sessions"):
            for (data,) in conn.execute(f"SELECT data FROM {table}"):
                json.loads(data)
        conn.execute(
            "SELECT l.incident_id, l.signal_id, s.occurred_at FROM change_links l"
            " JOIN signals s ON s.id = l.signal_id"
        ).fetchall()
        kinds = json.dumps(sorted(k.value for k in FACT_KINDS))
        for (body,) in conn.execute(
            "SELECT body FROM journal WHERE kind IN (SELECT value FROM json_each(?))", (kinds,)
        ):
            json.loads(body)
        return time.perf_counter() - started
    finally:
        conn.close()


def run(quick: bool = False) -> list[Result]:
    incidents = 100 if quick else 1000
    with workdir("reports") as tmp:
        db = tmp / "oncall.db"
        build(db, incidents)
        until = START + timedelta(minutes=40 * (incidents + 1))
        ours, flagged = measure(db, START, until)
        baseline = plain_sql(db)
    if flagged != incidents:
        raise AssertionError(f"{flagged} of {incidents} incidents flagged")
    return [
        Result(
            "reports: report regressions (json + table)",
            ours,
            "s",
            baseline=baseline,
            baseline_label="plain SQL reading and parsing the same rows",
            target=TARGET_S,
            direction="max",
            notes=f"{incidents} incidents, {incidents * COMMITS_PER_DEPLOY} commits,"
            f" {SESSIONS} sessions",
        )
    ]


@pytest.mark.benchmark
def test_report_regressions_meets_target() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]
