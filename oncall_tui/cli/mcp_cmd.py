"""``mcp``: serve the approved context to coding agents over MCP (stdio)."""

from __future__ import annotations

import click

from oncall_tui.cli.app_context import app_context, friendly_errors


@click.command()
@click.option(
    "--session",
    "session_id",
    envvar="CLAUDE_CODE_SESSION_ID",
    show_envvar=True,
    help="The one agent session this server serves: its tools and resources refuse any "
    "other, so one agent cannot acknowledge another's push (Claude Code sets its session id).",
)
@click.option(
    "--server",
    envvar="ONCALL_TUI_SERVER",
    show_envvar=True,
    help="Every tool and resource through this oncall-tui server's agent routes instead of a "
    "local DB (the token: ONCALL_TUI_TOKEN or ~/.config/oncall-tui/token, mode 0600).",
)
@friendly_errors
def mcp(session_id: str | None, server: str | None) -> None:
    """Serve context, incidents and acknowledgements to an agent over MCP on stdin/stdout.

    Stdout is the protocol channel: nothing else is written there, and logs go to stderr.
    Register it with Claude Code:

    \b
        claude mcp add oncall-tui -- oncall-tui mcp
    """
    # Imported here: the SDK is heavy, and every other command (the hook above all, which must
    # answer in well under a second) would otherwise pay for it at start.
    if server:
        from oncall_tui.agents.mcp_remote import run_remote_stdio

        run_remote_stdio(server, session_id or None)
        return
    from oncall_tui.agents.mcp import run_stdio

    app = app_context()
    # The store path only: the server opens its own connection per call, on worker threads.
    run_stdio(app.settings.db, app.settings, app.clock, session_id or None)
