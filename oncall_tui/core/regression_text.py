"""The agent-assisted evidence of one incident in words: the lines the incident detail screen
and the timeline export show under "Agent-assisted".

Pure. Subjects, session ids and paths are text someone typed or chose: callers show the lines
as data (never markup), and every field is sanitised here first.
"""

from __future__ import annotations

from oncall_tui.core.regressions import (
    AgentAssisted,
    CommitEvidence,
    DeployEvidence,
    exposure_label,
)
from oncall_tui.core.sanitize import display_text

SHORT_SHA = 7
"""As ``git log --oneline`` abbreviates a sha."""


def untold_words(seconds: float | None) -> str:
    """How long a session worked without the context it should have had, in minutes."""
    if seconds is None:
        return ""
    minutes = int(seconds // 60)
    return f", {minutes} min without it" if minutes else ", under a minute without it"


def commit_line(commit: CommitEvidence) -> str:
    """``a1b2c3d by claude-code in session s-1 (not told (pending), 12 min without it): subject``."""
    who = display_text(commit.agent or "an agent", 40)
    session = display_text(commit.session_id or "no session", 80)
    state = exposure_label(commit.exposure) + untold_words(commit.untold_seconds)
    files = display_text(", ".join(commit.files) or "-", 200)
    subject = display_text(commit.subject, 120)
    return (
        f"{commit.sha[:SHORT_SHA]} by {who} in session {session} ({state}): {subject}"
        f" [files: {files}]"
    )


def deploy_line(deploy: DeployEvidence) -> str:
    """``deploy 7d1e5a9 of acme/payments to payments-api at ...: 1 agent commit(s), 2 other(s)``."""
    return (
        f"deploy {deploy.sha[:SHORT_SHA]} of {display_text(deploy.repo, 80)} to"
        f" {display_text(deploy.service, 60)} at {deploy.at:%Y-%m-%d %H:%M:%S} UTC:"
        f" {len(deploy.commits)} agent commit(s), {deploy.human_commits} other(s)"
    )


def evidence_lines(evidence: AgentAssisted) -> list[str]:
    """One line per suspect deploy, then one per agent commit it shipped (indented)."""
    lines: list[str] = []
    for deploy in evidence.deploys:
        lines.append(deploy_line(deploy))
        lines += [f"  {commit_line(c)}" for c in deploy.commits]
    return lines
