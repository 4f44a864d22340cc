"""``report regressions`` and ``report agents``: the periodic reviews of agents near production.

``regressions``: which incidents a deploy carrying an agent's commits set off, and whether the
agent had been told. ``agents``: the readiness view per agent kind. Both default to the last
30 days and print a table; ``--format md|json|html`` for documents (``report schema`` prints
the JSON shapes).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from oncall_tui.cli.app_context import (
    app_context,
    ascii_json,
    echo_document,
    friendly_errors,
    print_json,
)
from oncall_tui.cli.timeline_cmd import parse_when
from oncall_tui.core.reports.html import agents_html, regressions_html
from oncall_tui.core.reports.md import agents_markdown, regressions_markdown
from oncall_tui.core.reports.model import (
    AgentsReport,
    RegressionReport,
    report_json,
    report_json_schema,
)
from oncall_tui.core.reports.table import agents_table, regressions_table
from oncall_tui.store.reports import fetch_agents_report, fetch_regression_report

FORMATS = ("html", "json", "md", "table")
_REGRESSIONS: dict[str, Callable[[RegressionReport], str]] = {
    "table": regressions_table,
    "md": regressions_markdown,
    "json": report_json,
    "html": regressions_html,
}
_AGENTS: dict[str, Callable[[AgentsReport], str]] = {
    "table": agents_table,
    "md": agents_markdown,
    "json": report_json,
    "html": agents_html,
}


def _window(since: str, until_: str | None) -> tuple[datetime, datetime]:
    now = app_context().clock.now()
    start, end = parse_when(since, now), parse_when(until_, now) if until_ else now
    if start > end:
        raise click.BadParameter("--since is after --until", param_hint="--since")
    return start, end


def _emit(text: str, fmt: str, output: Path | None) -> None:
    if output is not None:
        output.write_text(text, encoding="utf-8")
        click.echo(f"wrote {output}", err=True)
    elif fmt == "json":
        click.echo(ascii_json(text), nl=False)
    else:
        echo_document(text)


def _options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--since", default="-30d", show_default=True, metavar="TIME"),
            click.option("--until", "until_", metavar="TIME", help="End of the window [now]."),
            click.option(
                "--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True
            ),
            click.option(
                "--output",
                "-o",
                type=click.Path(dir_okay=False, path_type=Path),
                help="Write to FILE.",
            ),
        ]
    ):
        func = option(func)
    return func


@click.group()
def report() -> None:
    """Reviews over a window: agent-assisted regressions, agent readiness."""


@report.command()
@_options
@friendly_errors
def regressions(since: str, until_: str | None, fmt: str, output: Path | None) -> None:
    """Incidents whose suspect deploy carried an agent's commits, and what the agent knew."""
    start, end = _window(since, until_)
    found = fetch_regression_report(app_context().store.conn, start, end)
    _emit(_REGRESSIONS[fmt](found), fmt, output)


@report.command()
@_options
@friendly_errors
def agents(since: str, until_: str | None, fmt: str, output: Path | None) -> None:
    """Per agent kind: contexts read vs filed, acknowledgements, guard asks, rejections."""
    start, end = _window(since, until_)
    found = fetch_agents_report(app_context().store.conn, start, end)
    _emit(_AGENTS[fmt](found), fmt, output)


@report.command(name="schema")
@click.argument("which", type=click.Choice(["regressions", "agents"]))
def report_schema(which: str) -> None:
    """The JSON Schema of ``report regressions|agents --format json``."""
    print_json(report_json_schema(RegressionReport if which == "regressions" else AgentsReport))
