"""``pushes``: the listing, started like a small tool (see :mod:`.incidents_list`)."""

from __future__ import annotations

import click

from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.core.sanitize import display_text
from oncall_tui.store import listing

PUSH_STATES = (
    "pending",
    "approved",
    "delivered",
    "acknowledged",
    "rejected",
    "superseded",
    "expired",
)
"""The values of :class:`~oncall_tui.core.agents.PushState`, in its order (a test holds the two
equal): the model's module imports pydantic, which this command does without."""


@click.command()
@click.option("--state", type=click.Choice(PUSH_STATES), help="Only pushes in this state.")
@click.option("--incident", help="Only pushes about this incident.")
@click.option("--json", "as_json", is_flag=True)
@click.option("--limit", default=200, show_default=True)
@friendly_errors
def pushes(state: str | None, incident: str | None, as_json: bool, limit: int) -> None:
    """Context pushes: proposed, approved, delivered, rejected..."""
    conn = app_context().listing_conn
    rows = listing.list_pushes(conn, state=state, incident=incident, limit=limit)
    if as_json:
        print_json(rows)
        return
    if not rows:
        click.echo("no pushes" + (f" in state {state}" if state else ""))
        return
    for p in rows:
        audience = f"{p['audience']} ({len(p['recipients'])} sessions)"
        target = display_text(p["session_id"] or audience, 60)
        click.echo(
            f"{display_text(p['id'], 16):<7} {p['state']:<12} {p['kind']:<10}"
            f" {display_text(p['incident_id'], 16):<8} {target:<24}"
            f" {display_text(p['trigger'], 80)}"
        )
        click.echo(f"        why: {display_text(p['reason'], 140)}")
