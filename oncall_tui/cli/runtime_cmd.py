"""Long-running commands: ``serve`` (receiver and pollers), ``hook-server`` and ``demo``."""

from __future__ import annotations

import click

from oncall_tui.cli.app_context import (
    UserError,
    app_context,
    check_keymap,
    friendly_errors,
    require_terminal,
)


@click.command()
@click.option("--host", default=None, help="Address to bind (default from config: 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port (default from config: 9977).")
@click.option(
    "--export/--no-export",
    default=True,
    show_default=True,
    help="Keep the agents' context files current (one exporter per DB: a dashboard running "
    "at the same time leaves it to whichever started first).",
)
@friendly_errors
def serve(host: str | None, port: int | None, export: bool) -> None:
    """Run the webhook receiver, the pollers, the context export and session discovery."""
    from oncall_tui.agents.commits.loop import CommitsLoop
    from oncall_tui.agents.discover.loop import DiscoverLoop
    from oncall_tui.agents.export.process import ExportProcess
    from oncall_tui.server.runner import BindRefusedError, run_server

    app = app_context()
    settings = app.settings
    server = settings.server.model_copy(
        update={k: v for k, v in (("host", host), ("port", port)) if v is not None}
    )
    settings = settings.model_copy(update={"server": server})
    exporter = ExportProcess(settings.db, settings, program="serve")
    discoverer = DiscoverLoop(settings.db, settings, clock=app.clock)
    committer = CommitsLoop(settings.db, settings, clock=app.clock)

    def started() -> None:
        if export:
            exporter.start()
        discoverer.start()  # sessions without a hook, every [discover] interval_s
        committer.start()  # deploy ranges and signed commits, every [commits] interval_s

    try:
        run_server(settings, app.clock, on_started=started)
    except BindRefusedError as exc:
        raise UserError(str(exc)) from exc
    finally:
        committer.stop()
        discoverer.stop()
        exporter.stop()


@click.command("hook-server")
@click.option(
    "--idle",
    "idle_s",
    type=click.FloatRange(min=1),
    default=None,
    help="Exit after this many seconds without a request (default from config: "
    "sessions.hook_server_idle_s).",
)
@friendly_errors
def hook_server(idle_s: float | None) -> None:
    """Answer this machine's hook writes and decisions until idle (started by the hooks)."""
    from oncall_tui.config import SessionSettings
    from oncall_tui.server.hook_server import HookServerRefusedError, run_hook_server

    app = app_context()
    # Configured 0 means hooks start none; one started by hand still stops when idle.
    default = SessionSettings.model_fields["hook_server_idle_s"].default
    idle = idle_s or app.settings.sessions.hook_server_idle_s or default
    try:
        why = run_hook_server(app.settings, app.clock, idle_s=idle)
    except HookServerRefusedError as exc:
        click.echo(f"oncall-tui hook-server: not started: {exc}", err=True)
        return
    click.echo(f"oncall-tui hook-server: stopped ({why})", err=True)


@click.command()
@click.option(
    "--seed-only",
    is_flag=True,
    help="Seed the demo DB and print a summary instead of opening the dashboard.",
)
@friendly_errors
def demo(seed_only: bool) -> None:
    """A fresh DB (temporary, or the new file --db names) seeded with a scripted incident."""
    from oncall_tui.demo.command import run_demo

    run_demo(app_context(), seed_only=seed_only)


@click.command(hidden=True)
@click.option("--serve", is_flag=True)
@friendly_errors
def dashboard(serve: bool) -> None:
    """The dashboard (what ``oncall-tui`` runs without a command)."""
    from oncall_tui.tui.run import run_dashboard

    app = app_context()
    settings = app.settings
    # A wrong --db or a file that is not SQLite answers here in one line, not in the dashboard.
    app.store  # noqa: B018 (opened for its checks)
    app.close()
    check_keymap(settings)
    require_terminal("the dashboard")
    run_dashboard(settings, app.clock, serve=serve or settings.ui.serve)


@click.command()
@click.argument("incident_id")
@friendly_errors
def replay(incident_id: str) -> None:
    """Open the dashboard on the replay of INCIDENT_ID (escape goes to the live dashboard)."""
    from oncall_tui.store.queries import get_incident
    from oncall_tui.tui.app import AppOptions
    from oncall_tui.tui.run import make_app
    from oncall_tui.tui.screens.replay import replay_starter

    app = app_context()
    incident = get_incident(app.store.conn, incident_id)  # an unknown id: one line, exit 1
    app.close()
    check_keymap(app.settings)
    require_terminal("the replay")
    options = AppOptions(background=(replay_starter(incident.id),))
    make_app(app.settings, app.clock, options=options).run()
