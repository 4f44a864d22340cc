"""Where oncall-tui keeps its files by default (XDG Base Directory layout).

Standard library only: the agent hook resolves the DB path from here on every prompt, without
loading the settings machinery.
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
