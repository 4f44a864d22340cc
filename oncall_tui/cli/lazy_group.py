"""A click group that imports a command's module only when that command runs.

Every command module pulls in its own part of the application (pydantic models, Textual,
the exporter); importing them all before parsing made ``oncall-tui incidents`` pay for the
dashboard. The root group knows each command by name and ``"module:attribute"``; ``--help``
imports them all to show their short help, which is the one place that needs them all.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import click


class LazyGroup(click.Group):
    def __init__(self, *args: Any, lazy_commands: Mapping[str, str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy_commands = dict(lazy_commands)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        loaded = super().get_command(ctx, cmd_name)
        if loaded is not None or cmd_name not in self.lazy_commands:
            return loaded
        command = load_command(self.lazy_commands[cmd_name])
        self.add_command(command, cmd_name)
        return command


def load_command(spec: str) -> click.Command:
    """The command named by ``"package.module:attribute"``."""
    module_name, _, attribute = spec.partition(":")
    command = getattr(importlib.import_module(module_name), attribute)
    if not isinstance(command, click.Command):
        raise TypeError(f"{spec} is not a click command")
    return command
