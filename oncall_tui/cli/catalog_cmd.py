"""``catalog load FILE`` and ``catalog show``."""

from __future__ import annotations

from pathlib import Path

import click

from oncall_tui.actions.actor import engineer
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.core.catalog_yaml import CatalogError
from oncall_tui.core.sanitize import display_text


@click.group()
def catalog() -> None:
    """The service catalog: which code belongs to which service, and what depends on what."""


@catalog.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@friendly_errors
def load(file: Path) -> None:
    """Load a catalog (own YAML format or Backstage catalog-info.yaml); replaces the current one."""
    app = app_context()
    try:
        loaded = load_catalog_file(app.store, app.rules, file, engineer())
    except CatalogError as exc:
        raise click.ClickException(display_text(exc, 500)) from exc
    click.echo(f"loaded {len(loaded.services)} services from {display_text(file, None)}")


@catalog.command()
@click.option("--json", "as_json", is_flag=True)
@friendly_errors
def show(as_json: bool) -> None:
    """The loaded catalog."""
    services = app_context().store.tables().get_catalog()
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
        click.echo(f"    {display_text(line, None)}")
