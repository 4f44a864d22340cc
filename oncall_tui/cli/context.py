"""What every command shares: the settings, the store, and how errors reach the user."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import click

from oncall_tui.actions import Rules
from oncall_tui.config import ConfigError, Settings, load_settings
from oncall_tui.core.clock import Clock, SystemClock
from oncall_tui.store.db import StoreUnavailableError
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import NotFoundError
from oncall_tui.store.schema import SchemaTooNewError

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class AppContext:
    config_path: Path | None
    db_override: Path | None
    clock: Clock = field(default_factory=SystemClock)
    _settings: Settings | None = None
    _store: Store | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            overrides = {"db": self.db_override} if self.db_override else {}
            self._settings = load_settings(self.config_path, **overrides)
        return self._settings

    @property
    def rules(self) -> Rules:
        return Rules.from_settings(self.settings)

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store.open(self.settings.db, self.clock)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


class UserError(click.ClickException):
    """A mistake or an unmet condition the user can fix: one line on stderr, exit 1."""


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can act on into one clear line instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (
            ConfigError,
            SchemaTooNewError,
            NotFoundError,
            StoreUnavailableError,
            LookupError,
            ValueError,
        ) as exc:
            # KeyError-style messages come quoted; others are shown as they are.
            message = exc.args[0] if isinstance(exc, LookupError) and exc.args else exc
            raise UserError(str(message)) from exc
        except OSError as exc:
            raise UserError(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")) from exc

    return wrapper


def app_context() -> AppContext:
    ctx = click.get_current_context()
    obj = ctx.find_object(AppContext)
    if obj is None:  # pragma: no cover - the root group always sets it
        raise click.UsageError("internal: no application context")
    return obj


def current_user() -> str:
    """Who is acting, for the journal: ``$ONCALL_TUI_USER``, else the login name."""
    import getpass
    import os

    name = os.environ.get("ONCALL_TUI_USER")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, sort_keys=True, default=str)
    sys.stdout.write("\n")
