"""``incidents``: the listing, started like a small tool.

It reads the projection's documents with :mod:`json` (:mod:`oncall_tui.store.listing`) and
of the configuration only where the DB is (:attr:`AppContext.listing_conn`), so neither pydantic
nor pydantic-settings is imported, config file or not. The output is what the models would print.
"""

from __future__ import annotations

from datetime import datetime

import click

from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.core.clock import age
from oncall_tui.core.sanitize import display_text
from oncall_tui.store import listing


@click.command()
@click.option("--all", "include_resolved", is_flag=True, help="Include resolved incidents.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--service", help="Only this service.")
@click.option("--limit", default=200, show_default=True)
@friendly_errors
def incidents(include_resolved: bool, as_json: bool, service: str | None, limit: int) -> None:
    """List incidents (active ones unless --all)."""
    app = app_context()
    rows = listing.list_incidents(
        app.listing_conn, include_resolved=include_resolved, limit=limit, service=service
    )
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no active incidents" if not include_resolved else "no incidents")
        return
    now = app.clock.now()
    for i in rows:
        opened_at = datetime.fromisoformat(i["opened_at"])
        click.echo(
            f"{display_text(i['id'], 16):<9} {i['severity']:<8} {i['state']:<12}"
            f" {display_text(i['service'] or '-', 24):<24}"
            f" {age(opened_at, now):>5}  {i['signal_count']:>5} sig"
            f"  {display_text(i['title'], 80)}"
        )
