"""``catalog load FILE...`` and ``catalog show [--explain PATH]``."""

from __future__ import annotations

import os
from pathlib import Path

import click

from oncall_tui.actions.catalog import CodeownersReport, load_catalogs
from oncall_tui.actor import engineer
from oncall_tui.agents.repo import repo_info, repo_slug
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.core.catalog_explain import explain_path
from oncall_tui.core.catalog_yaml import CatalogError
from oncall_tui.core.plural import counted
from oncall_tui.core.sanitize import display_text
from oncall_tui.core.topology import Catalog


@click.group()
def catalog() -> None:
    """The service catalog: which code belongs to which service, and what depends on what."""


@catalog.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--repo", help="ORG/REPO the CODEOWNERS files govern (default: their git remote).")
@friendly_errors
def load(files: tuple[Path, ...], repo: str | None) -> None:
    """Load catalogs: own YAML, Backstage catalog-info.yaml (Locations followed), CODEOWNERS.

    Catalog files replace the current catalog; a CODEOWNERS file (or a repository directory,
    searched for .github/CODEOWNERS, CODEOWNERS, docs/CODEOWNERS) gives services path-level
    ownership in its repo, through their owners or the [catalog] owners mapping.
    """
    app = app_context()
    try:
        report = load_catalogs(
            app.store,
            app.rules,
            list(files),
            engineer(),
            repo_of=lambda path: repo or _git_repo(path),
            owner_map=app.settings.catalog.owner_map(),
        )
    except CatalogError as exc:
        raise click.ClickException(display_text(exc, 500)) from exc
    services = len(report.catalog.services)
    click.echo(f"loaded {counted(services, 'service')} from {display_text(report.source, None)}")
    for codeowners in report.codeowners:
        _echo_codeowners(codeowners)
    for skipped in report.skipped:
        click.echo(display_text(skipped, 500))


@catalog.command()
@click.option("--json", "as_json", is_flag=True)
@click.option(
    "--explain", "explain", metavar="PATH", help="Which service PATH belongs to, and why."
)
@click.option("--repo", help="With --explain: the repo PATH is in (default: its git checkout).")
@friendly_errors
def show(as_json: bool, explain: str | None, repo: str | None) -> None:
    """The loaded catalog."""
    services = app_context().store.tables().get_catalog()
    if explain is not None:
        _explain(Catalog(services=services, source="the loaded catalog"), explain, repo)
        return
    if as_json:
        print_json({name: s.model_dump(mode="json") for name, s in services.items()})
        return
    if not services:
        click.echo("no catalog loaded (oncall-tui catalog load FILE)")
        return
    # A catalog may come from anywhere (a Backstage export, a colleague's file): sanitised.
    for name, service in services.items():
        deps = f" → {', '.join(service.depends_on)}" if service.depends_on else ""
        click.echo(display_text(f"{name}{deps}", None))
        line = f"repo {service.repo or '*'}  paths {', '.join(service.paths) or '(whole repo)'}"
        if service.path_rules and not service.paths:
            line = f"repo {service.repo or '*'}  paths (ordered rules below)"
        click.echo(f"    {display_text(line, None)}")
        for rule_set in service.path_rules:
            owned = sum(rule.owned for rule in rule_set.rules)
            text = f"rules of {rule_set.source} for {rule_set.repo}: {_rules(owned)}"
            click.echo(f"    {display_text(text, None)}")


def _explain(loaded: Catalog, path: str, repo: str | None) -> None:
    relative, found_repo = _locate(path)
    repo = repo or found_repo
    reasons = explain_path(loaded, repo, relative)
    click.echo(display_text(f"{relative} in {repo or 'any repo'}", None))
    owners = [r for r in reasons if r.owns]
    if not owners:
        click.echo("    belongs to no service")
    for reason in reasons:
        verdict = "" if reason.owns else "not its file: "
        click.echo(f"    {display_text(f'{reason.service}: {verdict}{reason.why}', None)}")


def _locate(path: str) -> tuple[str, str | None]:
    """A local file as its checkout sees it: path from the repo root, and the repo's slug."""
    local = Path(path)
    if not local.exists():
        return path, None
    directory = local if local.is_dir() else local.parent
    root = repo_info(str(directory)).root
    if root is None:
        return path, None
    absolute = Path(os.path.realpath(directory), "" if local.is_dir() else local.name)
    try:
        relative = absolute.relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return path, None
    return relative, repo_slug(root)


def _git_repo(path: Path) -> str | None:
    root = repo_info(str(path.parent)).root
    return repo_slug(root) if root is not None else None


def _echo_codeowners(report: CodeownersReport) -> None:
    given = ", ".join(
        f"{name} ({_rules(n)})" for name, n in report.applied.rules_by_service.items()
    )
    click.echo(display_text(f"{report.path} ({report.repo}): rules → {given}", None))
    unmapped = report.applied.unmapped_owners
    if unmapped:
        named = ", ".join(f"{owner} ({_rules(n)})" for owner, n in unmapped.items())
        click.echo(f"    {display_text(f'owners without a service: {named}', None)}")
    for line, why in report.skipped_lines:
        click.echo(f"    {display_text(f'skipped line {line}: {why}', None)}")


def _rules(count: int) -> str:
    return f"{count} rule" if count == 1 else f"{count} rules"
