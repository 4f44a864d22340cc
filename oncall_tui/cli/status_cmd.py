"""``status``: the pipeline's health, as the dashboard's header shows it, for scripts."""

from __future__ import annotations

import sys

import click

from oncall_tui.agents.error_log import recent_errors
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.core.health import PipelineHealth
from oncall_tui.core.sanitize import display_text
from oncall_tui.store.health import read_health


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON document with stable keys.")
@friendly_errors
def status(as_json: bool) -> None:
    """Pipeline health: each source's last delivery, the policy mode, who exports context,
    the hooks' and MCP servers' errors of the last 24 h, and the receiver's backlog.

    Prints one fact per line (or, with --json, the keys ok, now, problems, policy_mode,
    sources[] (name, configured, polled, last_delivery_at, age_s, silence_s, silent),
    exporter (program, host, pid; null when nobody exports), agent_errors_24h, backlog,
    active_sessions).

    Exit status: 0 when all is well; 1 when a configured source has been silent for longer
    than its threshold ([health] silence_s, or [sources.X] silence_s), or when nobody exports
    context while agent sessions are active. A source that never delivered, hook errors and
    a backlog are reported but do not fail the check.
    """
    app = app_context()
    settings = app.settings
    now = app.clock.now()
    health = read_health(
        app.store.conn,
        settings,
        now,
        agent_errors=recent_errors(settings.db, now).count,
    )
    if as_json:
        print_json(health.as_json())
    else:
        for line in fact_lines(health):
            click.echo(line)
    if not health.ok:
        sys.exit(1)


def fact_lines(health: PipelineHealth) -> list[str]:
    """``key: value`` lines, one per fact, problems last (each on its own line)."""
    lines = []
    if not health.sources:
        lines.append("sources: none configured")
    for source in health.sources:
        if source.silent:
            verdict = f"SILENT (threshold {int(source.silence_s or 0)}s)"
        elif not source.configured:
            verdict = "not configured"
        else:
            verdict = "ok"
        via = " (polled)" if source.polled else ""
        when = "never delivered" if source.age_s is None else f"{source.age_label(health.now)} ago"
        lines.append(f"source {source.name}{via}: {when}, {verdict}")
    lines.append(f"policy: {health.policy_mode}")
    exporter = health.exporter
    lines.append(
        "export: none" if exporter is None else f"export: {exporter.label} (pid {exporter.pid})"
    )
    lines.append(f"active sessions: {health.active_sessions}")
    lines.append(f"backlog: {health.backlog}")
    lines.append(f"hook errors (24h): {health.agent_errors}")
    lines += [f"problem: {problem}" for problem in health.problems()]
    lines.append(f"status: {'ok' if health.ok else 'attention'}")
    # Host names come from the lease row any process on this machine may write.
    return [display_text(line, 300) for line in lines]
