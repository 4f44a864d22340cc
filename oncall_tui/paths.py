"""Where oncall-tui keeps its files by default (XDG Base Directory layout).

Standard library only: the agent hook and the listing commands resolve the DB path from here,
without loading the settings machinery.
"""

from __future__ import annotations

import os
from pathlib import Path

APP = "oncall-tui"


def xdg_dir(variable: str, fallback: str) -> Path:
    """An XDG base directory; an empty variable counts as unset, as the spec says."""
    return Path(os.environ.get(variable) or Path.home() / fallback)


def config_dir() -> Path:
    return xdg_dir("XDG_CONFIG_HOME", ".config") / APP


def state_dir() -> Path:
    return xdg_dir("XDG_STATE_HOME", ".local/state") / APP


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def default_db_path() -> Path:
    return xdg_dir("XDG_DATA_HOME", ".local/share") / APP / "oncall.db"


def default_export_dir() -> Path:
    return state_dir() / "context"


def resolve_db(db_arg: str | None, config_arg: str | None) -> Path:
    """The DB path as :func:`~oncall_tui.config.load_settings` finds it, without pydantic-settings.

    Same precedence: ``--db`` (or ``ONCALL_TUI_DB``), then ``db`` in the TOML file (``--config``,
    ``ONCALL_TUI_CONFIG``, or the XDG default), then the XDG data dir. A test holds the two
    in agreement; this copy exists only because importing the settings costs ~150 ms, which the
    agent hook and the listing commands cannot afford.
    """
    explicit = db_arg or os.environ.get("ONCALL_TUI_DB")
    if explicit:
        return Path(explicit)
    config_value = config_arg or os.environ.get("ONCALL_TUI_CONFIG")
    config = Path(config_value) if config_value else default_config_path()
    if config_value and not config.is_file():
        raise FileNotFoundError(f"config file not found: {config}")
    if config.is_file():
        import tomllib

        value = tomllib.loads(config.read_text(encoding="utf-8")).get("db")
        if isinstance(value, str) and value:
            return Path(value)
    return default_db_path()
