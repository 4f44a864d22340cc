"""``sessions register|heartbeat|end|list`` and ``hook AGENT`` (one command per agent).

The sessions commands are for agents without hooks (Codex, Cursor, Aider, scripts) and for
engineers; Claude Code registers itself through the hook.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import Any

import click

from oncall_tui.actions import sessions as session_actions
from oncall_tui.actor import engineer
from oncall_tui.agents.hook.adapters import MODULES, adapter
from oncall_tui.agents.hook.core import emit, report_internal_error, run_hook
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.cli.discover_cmd import discover_command
from oncall_tui.core.agent_identity import session_agent_id
from oncall_tui.core.agents import AgentKind, AgentSession, SessionState
from oncall_tui.core.clock import age
from oncall_tui.core.plural import counted
from oncall_tui.core.sanitize import display_text

PATH_HELP = "A file the agent touched, relative to the repo root (repeatable)."


@click.group()
def sessions() -> None:
    """AI coding-agent sessions: who works where, and who is affected by an incident."""


@sessions.command()
@click.argument("session_id")
@click.option(
    "--agent",
    type=click.Choice([k.value for k in AgentKind]),
    default=AgentKind.OTHER.value,
    show_default=True,
)
@click.option("--repo", help="Repository identifier, e.g. owner/name.")
@click.option("--cwd", help="Working directory of the agent.")
@click.option("--branch")
@click.option("--task", default="", help="One line: what the agent is working on.")
@click.option("--path", "paths", multiple=True, help=PATH_HELP)
@friendly_errors
def register(
    session_id: str,
    agent: str,
    repo: str | None,
    cwd: str | None,
    branch: str | None,
    task: str,
    paths: tuple[str, ...],
) -> None:
    """Register a session (again: refresh what is known about it)."""
    app = app_context()
    session = session_actions.register(
        app.store,
        app.rules,
        session_id,
        agent=AgentKind(agent),
        repo=repo,
        cwd=cwd,
        branch=branch,
        task=task,
        paths=list(paths),
        actor=engineer(),
    )
    click.echo(
        f"{session.id} registered ({session.agent.value}, {counted(len(session.paths), 'path')})"
    )


@sessions.command()
@click.argument("session_id")
@click.option("--path", "paths", multiple=True, help=PATH_HELP)
@click.option("--branch")
@click.option("--task")
@friendly_errors
def heartbeat(
    session_id: str, paths: tuple[str, ...], branch: str | None, task: str | None
) -> None:
    """Mark a session alive, with the files it touched since."""
    app = app_context()
    session = session_actions.heartbeat(
        app.store, app.rules, session_id, paths=list(paths), branch=branch, task=task
    )
    click.echo(f"{session.id} seen ({counted(len(session.paths), 'path')})")


@sessions.command()
@click.argument("session_id")
@friendly_errors
def end(session_id: str) -> None:
    """End a session: its pending pushes expire."""
    app = app_context()
    session = session_actions.end(app.store, app.rules, session_id, actor=engineer())
    click.echo(f"{session.id} ended")


@sessions.command(name="list")
@click.option("--all", "include_ended", is_flag=True, help="Include ended sessions.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@friendly_errors
def list_(include_ended: bool, as_json: bool) -> None:
    """Sessions by agent (kind, worktree and branch: a resumed session is the same agent), the
    most recently seen first (active and idle ones unless --all)."""
    app = app_context()
    now, timing = app.clock.now(), app.rules.timing
    rows = app.store.conn.execute("SELECT data FROM sessions ORDER BY last_seen DESC").fetchall()
    listed: list[tuple[AgentSession, SessionState]] = []
    for row in rows:
        session = AgentSession.model_validate_json(row[0])
        state = session.state(now, timing.idle_after, timing.end_after)
        if include_ended or state is not SessionState.ENDED:
            listed.append((session, state))
    if as_json:
        print_json([session_json(s, state) for s, state in listed])
        return
    if not listed:
        click.echo("no sessions" if include_ended else "no active sessions")
        return
    by_agent: dict[str, list[tuple[AgentSession, SessionState]]] = {}
    for s, state in listed:
        by_agent.setdefault(session_agent_id(s), []).append((s, state))
    for agent, its_sessions in by_agent.items():
        first = its_sessions[0][0]
        where = display_text(first.repo or first.cwd or "-", 60)
        branch = f"@{display_text(first.branch, 40)}" if first.branch else ""
        click.echo(
            f"agent {agent}  {first.agent.value} {where}{branch}"
            f"  ({counted(len(its_sessions), 'session')})"
        )
        for s, state in its_sessions:
            _echo_session(s, state, now)


def _echo_session(s: AgentSession, state: SessionState, now: datetime) -> None:
    told = f"told {age(s.last_context_at, now)} ago" if s.last_context_at else "never told"
    click.echo(
        f"  {display_text(s.id, 40):<40} {s.agent.value:<11} {state.value:<6}"
        f" {display_text(s.repo or '-', 32):<32} {display_text(s.branch or '-', 24):<24}"
        f" seen {age(s.last_seen, now):>4} ago  {told:<15} {len(s.paths):>3} paths"
        f"  {display_text(s.task, 60)}"
    )


sessions.add_command(discover_command)


def session_json(session: AgentSession, state: SessionState) -> dict[str, Any]:
    """The stable JSON of a session: the stored model plus its derived state and agent."""
    return {
        **session.model_dump(mode="json"),
        "state": state.value,
        "agent_id": session_agent_id(session),
    }


@click.group()
def hook() -> None:
    """Entry points for agent hooks (they print nothing and exit 0 on any error)."""


HOOK_HELP = {
    "claude-code": "Claude Code hook: SessionStart, UserPromptSubmit, Pre/PostToolUse JSON on stdin.",
    "codex": "Codex hook: SessionStart, UserPromptSubmit, Pre/PostToolUse JSON on stdin.",
    "cursor": "Cursor hook: sessionStart, beforeSubmitPrompt, preToolUse, beforeShellExecution, stop.",
    "gemini": "Gemini CLI hook: SessionStart, BeforeAgent, BeforeTool, AfterTool JSON on stdin.",
    "copilot": "Copilot CLI hook: sessionStart, userPromptSubmitted, preToolUse, agentStop JSON.",
}


def _hook_command(agent: str) -> click.Command:
    """``hook AGENT``: the agent's hook JSON on stdin, its answer in the agent's format."""

    def run() -> None:
        text = ""
        try:
            app = app_context()
            stdin_text = sys.stdin.buffer.read().decode("utf-8", "replace")
            text = run_hook(adapter(agent), stdin_text, app.settings, app.clock)
        except Exception:  # settings, DB, anything: the agent must never be stopped by us
            report_internal_error()
        emit(text)

    return click.Command(agent, callback=run, help=HOOK_HELP[agent])


for _agent in MODULES:
    hook.add_command(_hook_command(_agent))
