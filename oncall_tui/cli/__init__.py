"""The ``oncall-tui`` command line.

Commands are loaded by name when they run (:class:`~oncall_tui.cli.lazy_group.LazyGroup`): the
short ones (``incidents``, ``pushes``) start like small tools instead of paying for pydantic,
Textual and every other command's imports first.
"""

from __future__ import annotations

from pathlib import Path

import click

from oncall_tui.cli.app_context import AppContext
from oncall_tui.cli.lazy_group import LazyGroup, load_command
from oncall_tui.paths import DbLocation, db_location

COMMANDS = {
    "ingest": "oncall_tui.cli.deliveries_cmd:ingest",
    "deliveries": "oncall_tui.cli.deliveries_cmd:deliveries",
    "incidents": "oncall_tui.cli.incidents_list:incidents",
    "incident": "oncall_tui.cli.incidents_cmd:incident",
    "config": "oncall_tui.cli.config_cmd:config",
    "serve": "oncall_tui.cli.runtime_cmd:serve",
    "hook-server": "oncall_tui.cli.runtime_cmd:hook_server",
    "demo": "oncall_tui.cli.runtime_cmd:demo",
    "catalog": "oncall_tui.cli.catalog_cmd:catalog",
    "pushes": "oncall_tui.cli.pushes_list:pushes",
    "approve": "oncall_tui.cli.pushes_cmd:approve",
    "reject": "oncall_tui.cli.pushes_cmd:reject",
    "edit": "oncall_tui.cli.pushes_cmd:edit",
    "broadcast": "oncall_tui.cli.pushes_cmd:broadcast",
    "notes": "oncall_tui.cli.notes_cmd:notes",
    "memory": "oncall_tui.cli.memory_cmd:memory",
    "context": "oncall_tui.cli.context_cmd:context",
    "schema": "oncall_tui.cli.schema_group:schema",
    "export": "oncall_tui.cli.export_cmd:export",
    "guard": "oncall_tui.cli.guard_cmd:guard",
    "commits": "oncall_tui.cli.commits_cmd:commits",
    "sessions": "oncall_tui.cli.sessions_cmd:sessions",
    "hook": "oncall_tui.cli.sessions_cmd:hook",
    "hooks": "oncall_tui.cli.hooks_cmd:hooks",
    "watch": "oncall_tui.cli.watch_cmd:watch",
    "mcp": "oncall_tui.cli.mcp_cmd:mcp",
    "dashboard": "oncall_tui.cli.runtime_cmd:dashboard",
    "timeline": "oncall_tui.cli.timeline_cmd:timeline",
    "replay": "oncall_tui.cli.runtime_cmd:replay",
    "report": "oncall_tui.cli.report_cmd:report",
    "status": "oncall_tui.cli.status_cmd:status",
    "tokens": "oncall_tui.cli.tokens_cmd:tokens",
}
"""Every command, by name: its module is imported only when it runs (or for ``--help``)."""


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    invoke_without_command=True,
    context_settings={"help_option_names": ["-h", "--help"]},
)
@click.option(
    "--db",
    metavar="PATH|URL",
    envvar="ONCALL_TUI_DB",
    callback=lambda _ctx, _param, value: _db_option(value),
    help="SQLite file (default: under the XDG data dir), or a postgresql:// URL (team mode).",
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
    ctx: click.Context, db: DbLocation | None, config_path: Path | None, init: bool, serve: bool
) -> None:
    """Keep AI coding agents in step with production incidents.

    Without a command: the dashboard.
    """
    app = AppContext(config_path=config_path, db_override=db, init=init)
    ctx.obj = app
    ctx.call_on_close(app.close)
    if ctx.invoked_subcommand is None:
        ctx.invoke(load_command(COMMANDS["dashboard"]), serve=serve)


def _db_option(value: str | None) -> DbLocation | None:
    """A URL as given, else the SQLite file's path, which must not name a directory."""
    if not value:
        return None
    location = db_location(value)
    if isinstance(location, Path) and location.is_dir():
        raise click.BadParameter(f"{value} is a directory: --db takes the path of the SQLite file")
    return location


def main() -> None:
    cli(prog_name="oncall-tui")
