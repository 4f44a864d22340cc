"""The reports as Markdown: for a review document or a weekly note.

Text someone typed (incident titles, commit subjects, reject reasons) is escaped wherever
Markdown would act on it, so a commit subject cannot add a link, an image or a table column.
"""

from __future__ import annotations

from datetime import datetime

from oncall_tui.core.regressions import (
    AgentAssisted,
    CommitEvidence,
    WeekRow,
    exposure_label,
)
from oncall_tui.core.reports.model import AgentsReport, RegressionReport
from oncall_tui.core.sanitize import display_text
from oncall_tui.core.timeline.exposure import duration
from oncall_tui.core.timeline.md import md


def when(at: datetime) -> str:
    return f"{at:%Y-%m-%d %H:%M} UTC"


def cell(text: object, limit: int = 200) -> str:
    return md(display_text(text, limit))


def untold(commit: CommitEvidence) -> str:
    return "-" if commit.untold_seconds is None else duration(commit.untold_seconds)


def guard_text(commit: CommitEvidence) -> str:
    return ", ".join(f"{g.decision} ({g.incident_id})" for g in commit.guard) or "-"


def by_agent(week: WeekRow) -> str:
    return ", ".join(f"{agent} {n}" for agent, n in week.by_agent.items()) or "-"


def by_service(week: WeekRow) -> str:
    return (
        ", ".join(f"{name} {c.agent_assisted}/{c.incidents}" for name, c in week.by_service.items())
        or "-"
    )


def regressions_markdown(report: RegressionReport) -> str:
    flagged = len(report.agent_assisted)
    lines = [
        "# Agent-assisted regressions",
        "",
        f"{when(report.since)} to {when(report.until)}: {report.incidents} incidents,"
        f" {flagged} agent-assisted.",
        "",
        "## Per week",
        "",
        "| Week of | Incidents | Agent-assisted | By agent | By service (assisted/all) |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| {w.week:%Y-%m-%d} | {w.incidents} | {w.agent_assisted} | {cell(by_agent(w))}"
        f" | {cell(by_service(w))} |"
        for w in report.weeks
    ]
    for evidence in report.agent_assisted:
        lines += ["", *_incident(evidence)]
    if not report.agent_assisted:
        lines += ["", "No incident's suspect deploy carried an agent's commits."]
    return "\n".join(lines) + "\n"


def _incident(evidence: AgentAssisted) -> list[str]:
    lines = [
        f"## {cell(evidence.incident_id, 16)}: {cell(evidence.title)}",
        "",
        f"Service {cell(evidence.service or '-', 60)}, opened {when(evidence.opened_at)}.",
    ]
    for deploy in evidence.deploys:
        lines += [
            "",
            f"Suspect deploy `{deploy.sha[:12]}` of {cell(deploy.repo, 80)} to"
            f" {cell(deploy.service, 60)} at {when(deploy.at)}: {len(deploy.commits)} agent"
            f" commit(s), {deploy.human_commits} other(s).",
            "",
            "| Commit | Subject | Agent | Session | Files | Context when committed"
            " | Untold for | Guard |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for c in deploy.commits:
            lines.append(
                f"| `{c.sha[:12]}` {when(c.authored_at)} | {cell(c.subject, 120)}"
                f" | {cell(c.agent or '-', 40)} | {cell(c.session_id or '-', 80)}"
                f" | {cell(', '.join(c.files) or '-', 300)} | {exposure_label(c.exposure)}"
                + (f" ({cell(c.push_id, 20)})" if c.push_id else "")
                + f" | {untold(c)} | {cell(guard_text(c))} |"
            )
    return lines


def agents_markdown(report: AgentsReport) -> str:
    lines = [
        "# Agent readiness",
        "",
        f"{when(report.since)} to {when(report.until)}.",
        "",
        "| Agent | Sessions | Read (hook/MCP) | File only | Pushes told | Acknowledged"
        " | Guard asked | Denied | Allowed after ask | Ask heeded | Edits after told |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {cell(a.agent, 40)} | {a.sessions} | {a.contexts_read} | {a.contexts_filed}"
        f" | {a.pushes_told} | {a.acknowledgements} | {a.guard_asked} | {a.guard_denied}"
        f" | {a.allowed_after_ask} | {a.asks_without_write} | {a.edits_after_told} |"
        for a in report.agents
    ]
    rejected = [(a.agent, r) for a in report.agents for r in a.rejected]
    lines += ["", "## Pushes rejected by engineers", ""]
    lines += [
        f"- {cell(r.push_id, 20)} ({cell(r.incident_id, 16)}, {cell(agent, 40)} session"
        f" {cell(r.session_id, 80)}) by {cell(r.by or '-', 80)}: {cell(r.reason or 'no reason')}"
        for agent, r in rejected
    ] or ["None."]
    return "\n".join(lines) + "\n"
