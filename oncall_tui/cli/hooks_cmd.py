"""``hooks install AGENT`` and ``hooks status``: each agent's hook configuration, wired to us.

``install`` merges our entries into the agent's own file (keeping the user's hooks and every
other setting, with a backup) and is idempotent; ``status`` says, per agent and scope, which
file is wired, which events are missing, and whether the command in it can still run.
"""

from __future__ import annotations

import os
from pathlib import Path

import click

from oncall_tui.agents.claude_plugin.install import install_plugin, installed_plugin_dir
from oncall_tui.agents.install.files import (
    Plan,
    ScopeStatus,
    apply,
    codex_hooks_disabled,
    hook_executable,
    plan_install,
    scope_status,
)
from oncall_tui.agents.install.merge import EXECUTABLE, hook_command
from oncall_tui.agents.install.spec import SPECS, AgentHooks, Scope, config_path
from oncall_tui.agents.repo import repo_info
from oncall_tui.cli.app_context import UserError, app_context, friendly_errors, print_json
from oncall_tui.core.sanitize import clean, display_text
from oncall_tui.paths import DbLocation, carries_password, is_postgres_url

PROJECT_DIR_HELP = "The project for --scope project (default: the git checkout around the cwd)."


@click.group()
def hooks() -> None:
    """Wire each agent's hooks to ``oncall-tui hook AGENT``, and see which are wired."""


def _project_dir(given: Path | None) -> Path:
    if given is not None:
        return given.absolute()
    cwd = Path.cwd()
    return repo_info(str(cwd)).root or cwd


def _path_for(spec: AgentHooks, scope: Scope, project_dir: Path) -> Path:
    return config_path(spec, scope, home=Path.home(), project_dir=project_dir, env=os.environ)


@hooks.command()
@click.argument("agent", type=click.Choice(list(SPECS)))
@click.option(
    "--scope",
    type=click.Choice([s.value for s in Scope]),
    default=Scope.USER.value,
    show_default=True,
    help="user: every session of yours on this machine; project: sessions in one checkout.",
)
@click.option("--dry-run", is_flag=True, help="Print the change as a unified diff; write nothing.")
@click.option(
    "--project-dir", type=click.Path(file_okay=False, path_type=Path), help=PROJECT_DIR_HELP
)
@click.option(
    "--plugin",
    is_flag=True,
    help="claude-code only: install the Claude Code plugin (hooks and a watch monitor) for"
    " the user instead (experimental).",
)
@friendly_errors
def install(agent: str, scope: str, dry_run: bool, project_dir: Path | None, plugin: bool) -> None:
    """Write or merge AGENT's hook configuration (a backup is kept of a changed file)."""
    if plugin:
        _install_plugin(agent, Scope(scope), dry_run)
        return
    app = app_context()
    spec, chosen = SPECS[agent], Scope(scope)
    path = _path_for(spec, chosen, _project_dir(project_dir))
    executable = hook_executable()
    if executable == EXECUTABLE:
        click.echo(
            f"warning: {EXECUTABLE} was not found on PATH; the hook runs it by name", err=True
        )
    db = _absolute(app.db_override) if app.db_override else None
    plan = plan_install(spec, path, hook_command(executable, agent, db))
    if not plan.changes:
        click.echo(f"{agent}: already installed in {display_text(str(path), 300)}")
    elif dry_run:
        click.echo(clean(plan.diff), nl=False)  # the user's file, but shown on a terminal
        click.echo("dry run: nothing written")
    else:
        backup = apply(plan, app.clock.now().astimezone())
        click.echo(f"{agent}: hooks installed in {display_text(str(path), 300)}")
        if backup is not None:
            click.echo(f"backup of the previous file: {display_text(str(backup), 300)}")
    for note in _notes(spec, chosen, plan):
        click.echo(note)


def _install_plugin(agent: str, scope: Scope, dry_run: bool) -> None:
    """The packaged Claude Code plugin, copied where Claude Code loads it for every session."""
    if agent != "claude-code" or scope is not Scope.USER:
        raise click.UsageError("--plugin is for claude-code at user scope (monitors need it)")
    if dry_run:
        target = installed_plugin_dir(Path.home())
        click.echo(f"dry run: would copy the plugin to {display_text(str(target), 300)}")
        return
    target = install_plugin(Path.home())
    click.echo(f"claude-code: plugin installed in {display_text(str(target), 300)} (experimental)")
    click.echo(
        "It carries the hooks too: remove oncall-tui's hooks from ~/.claude/settings.json, or"
        " each event runs twice. Its monitor runs `oncall-tui watch` in interactive sessions."
    )


def _notes(spec: AgentHooks, scope: Scope, plan: Plan) -> list[str]:
    """What the agent still needs from the user once the file is right."""
    notes = []
    if spec.agent == "codex":
        notes.append("Codex runs a new or changed hook only once trusted: review it in /hooks.")
        disabled = codex_hooks_disabled(plan.path.with_name("config.toml"))
        if disabled:
            notes.append(f"warning: {display_text(disabled, 300)}")
    if spec.agent == "copilot" and scope is Scope.PROJECT:
        notes.append("Copilot's coding agent reads .github/hooks from the default branch.")
    if scope is Scope.PROJECT and plan.changes:
        notes.append("The command names this machine's oncall-tui; others install their own.")
    return notes


@hooks.command()
@click.option(
    "--project-dir", type=click.Path(file_okay=False, path_type=Path), help=PROJECT_DIR_HELP
)
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@friendly_errors
def status(project_dir: Path | None, as_json: bool) -> None:
    """Per agent, whether its user and project hooks are wired and their command runs."""
    project = _project_dir(project_dir)
    found = [
        scope_status(spec, scope, _path_for(spec, scope, project))
        for spec in SPECS.values()
        for scope in Scope
    ]
    if as_json:
        print_json([s.as_json() for s in found])
        return
    for entry in found:
        click.echo(_status_line(entry))


def _status_line(entry: ScopeStatus) -> str:
    line = f"{entry.agent:<12} {entry.scope.value:<8} {entry.state:<13} "
    line += display_text(str(entry.path), 200)
    if not entry.exists:
        line += " (no file)"
    if entry.problem:
        line += f"  {display_text(entry.problem, 200)}"
    elif entry.wired and entry.wired.present and entry.wired.missing:
        line += f"  missing: {', '.join(entry.wired.missing)}"
    if entry.resolves is False:
        line += "  command not found: " + display_text(
            ", ".join(entry.wired.commands if entry.wired else ()), 200
        )
    return line


def _absolute(location: DbLocation) -> str:
    """The ``--db`` the hook command is written with: it runs in the agent's directory. A URL
    is written as given, unless it holds a password: the agent's settings file is no place for
    one (and is often kept in a dotfiles repository)."""
    if not is_postgres_url(location):
        return str(Path(location).absolute())
    if carries_password(location):
        raise UserError(
            "the --db URL holds a password, which would be written into the agent's settings: "
            "put it in ~/.pgpass or PGPASSWORD, or run the agents in remote mode (--server)"
        )
    return location
