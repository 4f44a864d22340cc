"""``approve``, ``reject``, ``edit``, ``broadcast`` (``pushes`` lives in :mod:`.pushes_list`,
which starts without the models).

``approve`` and ``reject`` ask a running ``serve`` to decide first (:mod:`.via_serve`), so they
import the models and the store's journal side only when they decide themselves; one that did
leaves a hook server running for the next (:mod:`oncall_tui.server.hook_server`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TYPE_CHECKING

import click

from oncall_tui.actor import engineer
from oncall_tui.cli.app_context import AppContext, app_context, friendly_errors
from oncall_tui.cli.via_serve import decide_via_serve
from oncall_tui.core import collector

if TYPE_CHECKING:
    from oncall_tui.core.agents import Push


@click.command()
@click.argument("push_id")
@friendly_errors
def approve(push_id: str) -> None:
    """Approve a pending push: its context reaches the agent."""
    _without_pydantic_plugins()
    app = app_context()
    by = engineer()
    decided = decide_via_serve(app.conn, "approve", push_id, {"by": by})
    if decided is None:

        def decide() -> Push:
            from oncall_tui.actions import pushes as push_actions

            return push_actions.approve(app.store, push_id, by, app.rules)

        decided = _decide_here(app, decide)
    click.echo("{} is {}".format(*decided))


@click.command()
@click.argument("push_id")
@click.option("--reason", required=True, help="Why (kept in the journal).")
@friendly_errors
def reject(push_id: str, reason: str) -> None:
    """Reject a pending push: the agent is not told (its "being assessed" notice goes too)."""
    _without_pydantic_plugins()
    app = app_context()
    by = engineer()
    decided = decide_via_serve(app.conn, "reject", push_id, {"by": by, "reason": reason})
    if decided is None:

        def decide() -> Push:
            from oncall_tui.actions import pushes as push_actions

            return push_actions.reject(app.store, push_id, by, reason)

        decided = _decide_here(app, decide)
    click.echo("{} is {}".format(*decided))


@click.command()
@click.argument("push_id")
@friendly_errors
def edit(push_id: str) -> None:
    """Edit a push's guidance in $EDITOR; saved as a new pending version."""
    from oncall_tui.actions import pushes as push_actions

    store = app_context().store
    current = store.tables().get_push(
        push_id.upper() if push_id.upper().startswith("P-") else f"P-{push_id}"
    )
    if current is None:
        raise click.ClickException(f"no push {push_id}")
    push_actions.check_editable(store, current)
    text = click.edit(current.guidance, extension=".md", require_save=True)
    if text is None:
        click.echo("not saved: nothing changed")
        return
    edited = push_actions.edit(store, current.id, engineer(), text)
    click.echo(
        f"{edited.id} (version {edited.version}) replaces {current.id}; approve it with: oncall-tui approve {edited.id}"
    )


@click.command()
@click.argument("incident_id")
@click.option("--message", "-m", required=True, help="What every agent should know now.")
@click.option("--repo", help="Only sessions working in this repo.")
@click.option("--yes", is_flag=True, help="Do not ask for confirmation.")
@friendly_errors
def broadcast(incident_id: str, message: str, repo: str | None, yes: bool) -> None:
    """Send an engineer's message about an incident to every active session."""
    from oncall_tui.actions import pushes as push_actions
    from oncall_tui.core.plural import counted

    app = app_context()
    audience = push_actions.broadcast_audience(app.store, app.rules, repo)
    if not audience:
        raise click.ClickException("no active sessions to broadcast to")
    click.echo(
        f"{counted(len(audience), 'session')} will receive it: {', '.join(s.id for s in audience[:10])}"
        + (" ..." if len(audience) > 10 else "")
    )
    if not yes:
        click.confirm("Send?", abort=True)
    push = push_actions.broadcast(app.store, incident_id, message, engineer(), app.rules, repo)
    _export_after_decision()
    click.echo(f"{push.id} sent to {counted(len(push.recipients), 'session')}")


def _without_pydantic_plugins() -> None:
    """pydantic looks for plugins in every installed package's metadata when it builds the first
    model (the settings', when a config file is read before ``serve`` is asked); a decision's
    models are for no plugin to observe (the agent hook does the same)."""
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")


def _decide_here(app: AppContext, decide: Callable[[], Push]) -> tuple[str, str]:
    """A decision no ``serve`` made: ``decide`` (importing what it needs), then the files of
    the sessions it concerns written, and a hook server left for the next decisions, which then
    take tens of milliseconds rather than the ~0.4 s of imports this one paid (the one a hook's
    write starts; it exits when idle). The decided push's id and state.

    It runs without garbage collections: what it makes is its imports (the models, the store's
    journal side, the exporter), and the collector's passes over them freed nothing, 20 ms of
    the ~0.4 s it takes (73 collections)."""
    with collector.paused():
        push = decide()
        _export_after_decision(push.recipients if push.session_id is None else [push.session_id])
        from oncall_tui.agents.hook.start_server import start_hook_server

        config = str(app.config_path) if app.config_path else None
        settings = app.settings
        start_hook_server(settings.db, config, settings.sessions.hook_server_idle_s)
    return push.id, push.state.value


def _export_after_decision(session_ids: list[str] | None = None) -> None:
    """A decision reaches the files right away (the dashboard and serve also do it):
    ``session_ids``' folders, or every session's (and the index and repo files in any case)."""
    try:
        from oncall_tui.agents.export.sync import sync
    except ImportError:  # pragma: no cover - exporter not installed in this build
        return
    app = app_context()
    sync(app.store, app.settings, session_ids=session_ids or None)
