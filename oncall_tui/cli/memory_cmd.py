"""``memory export|import|check|commit``: the team's notes as files in the repository."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from oncall_tui.actions import repo_memory
from oncall_tui.actor import engineer
from oncall_tui.agents.repo import repo_slug
from oncall_tui.cli.app_context import app_context, friendly_errors
from oncall_tui.core.sanitize import display_text

REPO = click.option(
    "--repo",
    "repo",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=Path("."),
    show_default=True,
    help="The repository checkout.",
)
SERVICES = click.option(
    "--service",
    "services",
    multiple=True,
    help="Only these services (default: the catalog's services in this repository).",
)


@click.group()
def memory() -> None:
    """Accepted notes as .oncall/memory/<service>.md, reviewed and committed like code."""


def _services(repo: Path, named: tuple[str, ...]) -> list[str]:
    return repo_memory.repo_services(
        app_context().store, repo_slug(repo.resolve()), repo.resolve(), list(named)
    )


@memory.command()
@REPO
@SERVICES
@friendly_errors
def export(repo: Path, services: tuple[str, ...]) -> None:
    """Write the accepted notes of the repository's services to .oncall/memory/."""
    written = repo_memory.export_memory(app_context().store, repo, _services(repo, services))
    for path in written:
        click.echo(f"wrote {path.relative_to(repo).as_posix()}")
    if not written:
        click.echo("no accepted notes for this repository's services")


@memory.command(name="import")
@REPO
@friendly_errors
def import_(repo: Path) -> None:
    """Read .oncall/memory/ into the DB (same ids; running it twice changes nothing)."""
    result = repo_memory.import_memory(app_context().store, repo, engineer())
    for line in [*result.problems, *result.conflicts]:
        click.echo(display_text(line, 300), err=True)
    click.echo(f"{len(result.added)} added, {len(result.updated)} updated")
    if result.problems or result.conflicts:
        sys.exit(1)


def _check(repo: Path, services: tuple[str, ...]) -> list[str]:
    return repo_memory.check_memory(app_context().store, repo, _services(repo, services))


@memory.command()
@REPO
@SERVICES
@friendly_errors
def check(repo: Path, services: tuple[str, ...]) -> None:
    """Exit 1, one line per problem, when the memory, the DB and the code disagree."""
    problems = _check(repo, services)
    for line in problems:
        click.echo(display_text(line, 300))
    if problems:
        sys.exit(1)
    click.echo("memory ok")


@memory.command()
@REPO
@SERVICES
@click.option("--branch", default=None, help="Commit on this branch (default: the current one).")
@friendly_errors
def commit(repo: Path, services: tuple[str, ...], branch: str | None) -> None:
    """Commit only .oncall/memory/, with Oncall-Note trailers, once `memory check` passes."""
    problems = _check(repo, services)
    if problems:
        for line in problems:
            click.echo(display_text(line, 300), err=True)
        click.echo("memory check failed: nothing committed", err=True)
        sys.exit(1)
    made = repo_memory.commit_memory(repo, branch)
    if made is None:
        click.echo("memory already committed")
        return
    sha, notes = made
    click.echo(f"committed {sha[:12]}: {', '.join(notes)}")
