"""The agent-assisted join and the report renderers, on values built here (no store)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from oncall_tui.core.agent_facts import AgentFacts, Delivery, Edit, GuardEvent, PushHistory
from oncall_tui.core.agents import PushKind
from oncall_tui.core.commits import Commit, CommitSource, DeployRange
from oncall_tui.core.regressions import (
    Exposure,
    IncidentFacts,
    JoinInputs,
    SessionFacts,
    SuspectDeploy,
    agent_assisted,
    find_regressions,
    summary_line,
    weekly,
)
from oncall_tui.core.reports.html import regressions_html
from oncall_tui.core.reports.md import regressions_markdown
from oncall_tui.core.reports.model import regression_report
from oncall_tui.core.reports.readiness import readiness
from oncall_tui.core.reports.table import regressions_table

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
SESSION = "cc-1"
FILE = "services/payments/client.py"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def push(**changes: object) -> PushHistory:
    base = PushHistory("P-1", "INC-1", SESSION, PushKind.UPDATE, ("payments-api",), at(0))
    return replace(base, **changes)  # type: ignore[arg-type]


def commit(sha: str = "a" * 40, **changes: object) -> Commit:
    base = Commit(
        sha=sha,
        repo="acme/pay",
        authored_at=at(10),
        subject="Drop the timeout",
        files=(FILE,),
        session_id=SESSION,
        agent="claude-code",
        source=CommitSource.HOOK,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def inputs(*commits: Commit, facts: AgentFacts | None = None) -> JoinInputs:
    shas = tuple(c.sha for c in commits)
    return JoinInputs(
        incidents=[
            IncidentFacts("INC-1", 1, "processor down", "payment-processor", at(-5), at(15)),
            IncidentFacts(
                "INC-2", 2, "api errors", "payments-api", at(30), None, (SuspectDeploy(7, at(20)),)
            ),
        ],
        ranges={7: DeployRange(7, "payments-api", "acme/pay", shas[0], None, shas)},
        commits={c.sha: c for c in commits},
        sessions={SESSION: SessionFacts(SESSION, "claude-code", at(-30), at(40))},
        facts=facts or AgentFacts(),
    )


def exposure_of(facts: AgentFacts) -> tuple[Exposure, float | None]:
    found = agent_assisted(inputs(commit(), facts=facts), "INC-2")
    assert found is not None
    [evidence] = found.commits
    return evidence.exposure, evidence.untold_seconds


def test_pending_told_and_never_told_at_commit_time() -> None:
    assert exposure_of(AgentFacts({"P-1": push()})) == (Exposure.PENDING, 600.0)
    approved_late = push(approved_at=at(12), told_at=at(12), told_via="hook")
    assert exposure_of(AgentFacts({"P-1": approved_late}))[0] is Exposure.PENDING
    told = push(approved_at=at(3), told_at=at(4), told_via="mcp")
    assert exposure_of(AgentFacts({"P-1": told})) == (Exposure.TOLD, 240.0)
    filed_only = push(approved_at=at(3), filed_at=at(4))
    assert exposure_of(AgentFacts({"P-1": filed_only}))[0] is Exposure.PENDING
    rejected = push(rejected_at=at(2), rejected_by="user:a", reject_reason="not affected")
    # INC-1 is on payment-processor, not the deploy's service: nothing was burning there.
    assert exposure_of(AgentFacts({"P-1": rejected})) == (Exposure.NEVER_TOLD, None)
    assert exposure_of(AgentFacts())[0] is Exposure.NEVER_TOLD


def test_never_told_counts_from_an_incident_burning_on_the_service() -> None:
    data = inputs(commit())
    burning = IncidentFacts("INC-0", 0, "api slow", "payments-api", at(-10))
    found = agent_assisted(
        JoinInputs([burning, *data.incidents], data.ranges, data.commits, data.sessions),
        "INC-2",
    )
    assert found is not None
    assert (found.commits[0].exposure, found.commits[0].untold_seconds) == (
        Exposure.NEVER_TOLD,
        1200.0,
    )


def test_a_push_about_another_service_does_not_count() -> None:
    other = push(services=("search",), incident_id="INC-9", told_at=at(1), approved_at=at(1))
    assert exposure_of(AgentFacts({"P-1": other}))[0] is Exposure.NEVER_TOLD


def test_guard_decisions_on_the_commits_files_before_it() -> None:
    guards = [
        GuardEvent(SESSION, "INC-1", "asked", (FILE,), "payments-api", at(8)),
        GuardEvent(SESSION, "INC-1", "denied", ("other.py",), "payments-api", at(8)),
        GuardEvent(SESSION, "INC-1", "asked", (FILE,), "payments-api", at(11)),
        GuardEvent("cc-2", "INC-1", "asked", (FILE,), "payments-api", at(8)),
    ]
    found = agent_assisted(inputs(commit(), facts=AgentFacts(guards=guards)), "INC-2")
    assert found is not None
    assert [(g.decision, g.at) for g in found.commits[0].guard] == [("asked", at(8))]


def test_human_commits_are_not_flagged_and_trailers_alone_are() -> None:
    human = commit("b" * 40, session_id=None, agent=None, source=None)
    assert agent_assisted(inputs(human), "INC-2") is None
    trailer = commit("c" * 40, session_id=None, source=CommitSource.TRAILER)
    found = agent_assisted(inputs(trailer, human), "INC-2")
    assert found is not None and found.deploys[0].human_commits == 1
    assert found.commits[0].exposure is Exposure.NO_SESSION
    assert "no session" in summary_line(found)


def test_weekly_series_has_every_week_and_counts_by_agent_and_service() -> None:
    data = inputs(commit())
    found, window = find_regressions(data, at(-60 * 24 * 8), at(60))
    rows = weekly(found, window, at(-60 * 24 * 8), at(60))
    assert [r.incidents for r in rows] == [0, 0, 2], "from the week of Sunday 11-15 on"
    rows = rows[1:]
    assert rows[1].agent_assisted == 1 and rows[1].by_agent == {"claude-code": 1}
    assert rows[1].by_service["payments-api"].agent_assisted == 1
    assert rows[1].by_service["payment-processor"].agent_assisted == 0


def test_sender_and_commit_text_cannot_escape() -> None:
    evil = "<script>alert(1)</script> ![x](https://evil.example/t.png) | cell | \x1b[31m"
    data = inputs(commit(subject=evil))
    report = regression_report(data, at(-60), at(60))
    page = regressions_html(report)
    assert "<script" not in page and "&lt;script&gt;" in page and "\x1b" not in page
    assert "evil.example" in page and "<a " not in page and "src=" not in page
    markdown = regressions_markdown(report)
    assert "![x]" not in markdown and "!\\[x\\]" in markdown and "\\| cell \\|" in markdown
    assert "<script>" not in markdown and "\x1b" not in markdown
    assert "\x1b" not in regressions_table(report)


def test_readiness_per_agent_kind() -> None:
    sessions = {
        SESSION: SessionFacts(SESSION, "claude-code", at(-30), at(40)),
        "codex-1": SessionFacts("codex-1", "codex", at(-30), at(40)),
    }
    facts = AgentFacts(
        pushes={
            "P-1": push(approved_at=at(1), told_at=at(2), told_via="hook", acknowledged_at=at(3)),
            "P-2": push(
                push_id="P-2",
                session_id="codex-1",
                rejected_at=at(4),
                rejected_by="user:a",
                reject_reason="not affected",
            ),
        },
        guards=[
            GuardEvent(SESSION, "INC-1", "asked", (FILE,), "payments-api", at(5)),
            GuardEvent(SESSION, "INC-1", "allowed-after-ask", (FILE,), "payments-api", at(6)),
            GuardEvent("codex-1", "INC-1", "denied", ("x.py",), "payments-api", at(5)),
        ],
        deliveries=[Delivery(SESSION, "hook", at(2)), Delivery("codex-1", "file", at(2))],
        edits=[Edit(SESSION, (FILE,), at(1)), Edit(SESSION, (FILE,), at(7))],
    )
    claude, codex = readiness(sessions, facts, at(-60), at(60))
    assert (claude.agent, claude.sessions, claude.contexts_read, claude.contexts_filed) == (
        "claude-code",
        1,
        1,
        0,
    )
    assert (claude.pushes_told, claude.acknowledgements, claude.edits_after_told) == (1, 1, 1)
    assert (claude.guard_asked, claude.allowed_after_ask, claude.asks_without_write) == (1, 1, 0)
    assert (codex.contexts_filed, codex.guard_denied, codex.asks_without_write) == (1, 1, 1)
    assert [(r.push_id, r.reason) for r in codex.rejected] == [("P-2", "not affected")]
