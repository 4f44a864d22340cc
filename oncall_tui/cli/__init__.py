"""The ``oncall-tui`` command line."""

from __future__ import annotations

from pathlib import Path

import click

from oncall_tui.cli.app_context import AppContext
from oncall_tui.cli.catalog_cmd import catalog
from oncall_tui.cli.commits_cmd import commits
from oncall_tui.cli.config_cmd import config
from oncall_tui.cli.context_cmd import context, schema
from oncall_tui.cli.deliveries_cmd import deliveries, ingest
from oncall_tui.cli.export_cmd import export
from oncall_tui.cli.guard_cmd import guard
from oncall_tui.cli.hooks_cmd import hooks
from oncall_tui.cli.incidents_cmd import incident, incidents
from oncall_tui.cli.mcp_cmd import mcp
from oncall_tui.cli.memory_cmd import memory
from oncall_tui.cli.notes_cmd import notes
from oncall_tui.cli.pushes_cmd import approve, broadcast, edit, pushes, reject
from oncall_tui.cli.report_cmd import report
from oncall_tui.cli.runtime_cmd import dashboard, demo, replay, serve
from oncall_tui.cli.sessions_cmd import hook, sessions
from oncall_tui.cli.status_cmd import status
from oncall_tui.cli.timeline_cmd import timeline, timeline_schema
from oncall_tui.cli.watch_cmd import watch


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ONCALL_TUI_DB",
    help="SQLite file (default: under the XDG data dir).",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    envvar="ONCALL_TUI_CONFIG",
    help="TOML config file (default: under the XDG config dir).",
)
@click.option(
    "--init",
    is_flag=True,
    help="Create the --db file's directory if it does not exist (otherwise refused).",
)
@click.option(
    "--serve", is_flag=True, help="Also run the receiver, pollers and exporter in the dashboard."
)
@click.pass_context
def cli(
    ctx: click.Context, db: Path | None, config_path: Path | None, init: bool, serve: bool
) -> None:
    """Keep AI coding agents in step with production incidents.

    Without a command: the dashboard.
    """
    app = AppContext(config_path=config_path, db_override=db, init=init)
    ctx.obj = app
    ctx.call_on_close(app.close)
    if ctx.invoked_subcommand is None:
        ctx.invoke(dashboard, serve=serve)


for command in (
    ingest,
    deliveries,
    incidents,
    incident,
    config,
    serve,
    demo,
    catalog,
    pushes,
    approve,
    reject,
    edit,
    broadcast,
    notes,
    memory,
    context,
    schema,
    export,
    guard,
    commits,
    sessions,
    hook,
    hooks,
    watch,
    mcp,
    dashboard,
    timeline,
    replay,
    report,
    status,
):
    cli.add_command(command)
schema.add_command(timeline_schema)


def main() -> None:
    cli(prog_name="oncall-tui")
