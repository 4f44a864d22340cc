"""``guard allow``: let one session past the edit guard for some files, for a while."""

from __future__ import annotations

import click

from oncall_tui.actions import guard as guard_actions
from oncall_tui.actor import engineer
from oncall_tui.cli.app_context import app_context, friendly_errors
from oncall_tui.core.sanitize import display_text


@click.group()
def guard() -> None:
    """The edit guard that asks (or, for Codex and Gemini CLI, denies) before an agent writes
    files of a service under an incident."""


@guard.command()
@click.argument("session_id")
@click.argument("path_glob")
@click.option("--minutes", default=30, show_default=True, help="How long the override lasts.")
@friendly_errors
def allow(session_id: str, path_glob: str, minutes: int) -> None:
    """Let SESSION_ID write files matching PATH_GLOB (relative to the repository)."""
    allowed = guard_actions.allow(app_context().store, session_id, path_glob, minutes, engineer())
    click.echo(
        f"{display_text(allowed.session_id, 80)} may write {display_text(allowed.path_glob, 120)}"
        f" until {allowed.until}"
    )
