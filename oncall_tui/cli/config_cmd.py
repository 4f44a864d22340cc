"""``config show``: the effective pipeline configuration, secrets masked."""

from __future__ import annotations

from typing import Any

import click

from oncall_tui.cli.app_context import app_context, friendly_errors, print_json
from oncall_tui.config import Settings
from oncall_tui.core.urls import MASK, without_userinfo
from oncall_tui.paths import display_db


@click.group()
def config() -> None:
    """Inspect the configuration."""


@config.command()
@friendly_errors
def show() -> None:
    """Print the effective configuration (file + environment + defaults), secrets masked."""
    print_json(masked(app_context().settings))


def masked(settings: Settings) -> dict[str, Any]:
    """The effective configuration for display: secrets shown as ``********``."""
    data: dict[str, Any] = {**settings.model_dump(mode="json"), "db": display_db(settings.db)}
    for name, source in settings.sources.items():
        data["sources"][name] = {
            "auth": source.auth_kinds or ["none"],
            **{
                k: MASK
                for k in ("secret", "token", "basic_password")
                if getattr(source, k) is not None
            },
            **({"basic_user": source.basic_user} if source.basic_user else {}),
        }
    if settings.repos.github.token is not None:
        data["repos"]["github"]["token"] = MASK
    for name in ("alertmanager", "pagerduty"):
        poller = data["pollers"].get(name)
        if poller and poller.get("token"):
            poller["token"] = MASK
        if poller and poller.get("url"):
            # ``http://user:pass@alertmanager:9093`` is how a proxy's basic auth is often given.
            poller["url"] = without_userinfo(poller["url"], MASK)
    return data
