"""``commits scan`` and ``commits resolve``: agents' commits, and what each deploy shipped."""

from __future__ import annotations

import json
from pathlib import Path

import click

from oncall_tui.cli.app_context import app_context, friendly_errors
from oncall_tui.cli.timeline_cmd import parse_when
from oncall_tui.core.commits import Commit, DeployRange
from oncall_tui.core.sanitize import display_text


@click.group()
def commits() -> None:
    """Commits made in agent sessions, and the commits each deploy shipped."""


@commits.command()
@click.option(
    "--repo",
    "checkout",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    help="Scan this checkout only (default: the checkouts the sessions worked in).",
)
@click.option("--since", default="-7d", show_default=True, metavar="TIME")
@click.option("--json", "as_json", is_flag=True, help="The recorded commits as JSON.")
@friendly_errors
def scan(checkout: Path | None, since: str, as_json: bool) -> None:
    """Find commits signed by an agent (``Co-Authored-By: Claude``... see ``[commits]
    agent_trailers``) and tie them to the session active in that repository then."""
    from oncall_tui.agents.commits.scan import scan_trailers

    app = app_context()
    store = app.store
    start = parse_when(since, store.clock.now())
    report = scan_trailers(
        store, app.settings.commits.agent_trailers, since=start, checkout=checkout
    )
    if as_json:
        click.echo(json.dumps([_commit_json(c) for c in report.recorded], indent=2))
        return
    click.echo(
        f"scanned {len(report.checkouts)} repositories: {report.signed} signed commits,"
        f" {len(report.recorded)} recorded"
    )
    for commit in report.recorded:
        click.echo(_commit_line(commit))


@commits.command()
@click.option("--service", default=None, help="Only this service's deploys.")
@click.option("--json", "as_json", is_flag=True, help="The resolved ranges as JSON.")
@friendly_errors
def resolve(service: str | None, as_json: bool) -> None:
    """Resolve the commits of every deploy not resolved yet (a ``[repos]`` clone, or the GitHub
    compare API with ``[repos.github] token``)."""
    from oncall_tui.agents.commits.deploys import resolve_deploys

    app = app_context()
    report = resolve_deploys(
        app.store,
        app.settings.repos,
        service=service,
        first_depth=app.settings.commits.first_deploy_depth,
    )
    if as_json:
        click.echo(json.dumps([_range_json(d) for d in report.resolved], indent=2))
        return
    for deploy in report.resolved:
        click.echo(_range_line(deploy))
    click.echo(f"{len(report.resolved)} resolved, {len(report.unresolved)} not resolvable yet")


def _commit_json(commit: Commit) -> dict[str, object]:
    from oncall_tui.core.commit_records import commit_to_json

    return commit_to_json(commit)


def _range_json(deploy: DeployRange) -> dict[str, object]:
    from oncall_tui.core.commit_records import deploy_to_json

    return deploy_to_json(deploy)


def _commit_line(commit: Commit) -> str:
    session = display_text(commit.session_id, 60) if commit.session_id else "no session"
    return (
        f"{commit.sha[:12]}  {display_text(commit.repo, 60)}  {commit.agent or '?'}  {session}"
        f"  {display_text(commit.subject, 80)}"
    )


def _range_line(deploy: DeployRange) -> str:
    since = deploy.previous_sha[:12] if deploy.previous_sha else "(first deploy)"
    return (
        f"signal {deploy.signal_id}  {display_text(deploy.service, 60)}  {since}..{deploy.sha[:12]}"
        f"  {len(deploy.shas)} commits via {deploy.via}"
    )
