"""``context SESSION_ID`` and ``schema context``: what an agent reads, and its JSON Schema."""

from __future__ import annotations

import click

from oncall_tui.actions.notes import stale_notes
from oncall_tui.cli.app_context import (
    app_context,
    ascii_json,
    echo_document,
    friendly_errors,
    print_json,
)
from oncall_tui.core.context.render import render_json, render_markdown
from oncall_tui.core.context.schema import context_json_schema
from oncall_tui.core.sanitize import display_text
from oncall_tui.store.context import build_session_context
from oncall_tui.store.meta import fence_key


@click.command()
@click.argument("session_id")
@click.option("--format", "fmt", type=click.Choice(["md", "json"]), default="md", show_default=True)
@friendly_errors
def context(session_id: str, fmt: str) -> None:
    """The context document of a session, as its agent reads it now."""
    app = app_context()
    store = app.store
    ctx = build_session_context(store.conn, session_id, contact=app.settings.oncall.contact)
    if ctx is None:
        raise click.ClickException(f"no session {display_text(session_id, 128)}")
    key = fence_key(store)
    # Flagged as in the files and the hook: the agent is asked to review the same notes.
    stale = stale_notes(ctx.notes, app.clock.now())
    if fmt == "json":
        document = render_json(ctx, key, stale_notes=stale)
        click.echo(ascii_json(document.model_dump_json(indent=2, by_alias=True)))
    else:
        echo_document(render_markdown(ctx, key, stale_notes=stale))


@click.group()
def schema() -> None:
    """Published schemas."""


@schema.command(name="context")
def context_schema() -> None:
    """The JSON Schema of context.json documents."""
    print_json(context_json_schema())
