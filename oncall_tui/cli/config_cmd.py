"""``config show``: the effective pipeline configuration, secrets masked."""

from __future__ import annotations

import click

from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.config import masked


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command()
@friendly_errors
def show() -> None:
    """Print the effective configuration (file + environment + defaults), secrets masked."""
    print_json(masked(app_context().settings))
