"""``tokens create|list|revoke``: the per-machine tokens remote agents call the server with."""

from __future__ import annotations

from datetime import datetime

import click

from oncall_tui.actor import engineer
from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.store import tokens as token_store


@click.group()
def tokens() -> None:
    """Tokens for agents on other machines (hooks and MCP with --server / ONCALL_TUI_SERVER)."""


@tokens.command()
@click.argument("name")
@friendly_errors
def create(name: str) -> None:
    """Make a token for the machine NAME and print it, alone, on stdout (shown only now)."""
    token = token_store.create_token(app_context().store, name, engineer())
    click.echo(token)
    click.echo(
        f"token {name!r} is shown once and stored hashed: put it in ONCALL_TUI_TOKEN or in"
        " ~/.config/oncall-tui/token (mode 0600) on that machine",
        err=True,
    )


@tokens.command(name="list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@friendly_errors
def list_(as_json: bool) -> None:
    """Every token's name, when it was made, last used and revoked (never the token)."""
    rows = token_store.list_tokens(app_context().store.conn)
    if as_json:
        print_json(
            [
                {
                    "name": row.name,
                    "created_at": _iso(row.created_at),
                    "last_used_at": _iso(row.last_used_at),
                    "revoked_at": _iso(row.revoked_at),
                }
                for row in rows
            ]
        )
        return
    if not rows:
        click.echo("no tokens: `oncall-tui tokens create NAME` makes one")
        return
    click.echo(f"{'NAME':<24} {'CREATED':<20} {'LAST USED':<20} REVOKED")
    for row in rows:
        click.echo(
            f"{row.name:<24} {_short(row.created_at):<20} {_short(row.last_used_at):<20}"
            f" {_short(row.revoked_at)}"
        )


@tokens.command()
@click.argument("name")
@friendly_errors
def revoke(name: str) -> None:
    """Refuse the token of the machine NAME from now on."""
    token_store.revoke_token(app_context().store, name, engineer())
    click.echo(f"token {name!r} revoked")


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def _short(value: datetime | None) -> str:
    return "-" if value is None else value.strftime("%Y-%m-%d %H:%M:%S")
