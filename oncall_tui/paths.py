"""Where oncall-tui keeps its files by default (XDG Base Directory layout).

Standard library only: the agent hook and the listing commands resolve the DB path from here,
without loading the settings machinery.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from oncall_tui.core.urls import MASK

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import TypeAlias, TypeGuard

APP = "oncall-tui"

DbLocation: TypeAlias = Path | str
"""Where the store is: a SQLite file, or a ``postgresql://`` URL (team mode)."""

DB_NOT_TEXT = "expected the path of a SQLite file or a postgresql:// URL, as a string"
_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_PASSWORD_PARAMETER = re.compile(r"([?&]password=)[^&#]*", re.IGNORECASE)


def is_postgres_url(location: object) -> TypeGuard[str]:
    """Whether a store location names a PostgreSQL database rather than a SQLite file."""
    return isinstance(location, str) and location.startswith(_POSTGRES_SCHEMES)


def db_location(text: object) -> DbLocation:
    """What ``--db`` or ``db =`` names: a PostgreSQL URL as given, anything else a file path.
    Anything but text (``db = 5``) is a problem of the config, not a TypeError."""
    if not isinstance(text, str | Path):
        raise ValueError(DB_NOT_TEXT)
    if is_postgres_url(text):
        return text
    return Path(text)


def display_db(location: DbLocation) -> str:
    """The location as shown to people and written in logs: a URL's password never is
    (``PGPASSWORD`` or ``~/.pgpass`` keep it out of the URL altogether)."""
    if not carries_password(location):
        return str(location)
    from urllib.parse import urlsplit

    parts = urlsplit(str(location))
    if parts.password is not None:
        user, _, host = parts.netloc.rpartition("@")
        parts = parts._replace(netloc=f"{user.partition(':')[0]}:{MASK}@{host}")
    return _PASSWORD_PARAMETER.sub(rf"\g<1>{MASK}", parts.geturl())


def carries_password(location: DbLocation) -> bool:
    """Whether a PostgreSQL URL holds a password (in its userinfo or as a parameter)."""
    if not is_postgres_url(location):
        return False
    from urllib.parse import urlsplit

    return urlsplit(location).password is not None or bool(_PASSWORD_PARAMETER.search(location))


def xdg_dir(variable: str, fallback: str) -> Path:
    """An XDG base directory; an empty variable counts as unset, as the spec says."""
    return Path(os.environ.get(variable) or Path.home() / fallback)


def config_dir() -> Path:
    return xdg_dir("XDG_CONFIG_HOME", ".config") / APP


def state_dir() -> Path:
    return xdg_dir("XDG_STATE_HOME", ".local/state") / APP


def default_config_path() -> Path:
    return config_dir() / "config.toml"


def chosen_config_file(given: str | Path | None) -> Path:
    """The config file: ``--config``, else ``ONCALL_TUI_CONFIG``, else the XDG default."""
    value = given or os.environ.get("ONCALL_TUI_CONFIG")
    return Path(value) if value else default_config_path()


def default_db_path() -> Path:
    return xdg_dir("XDG_DATA_HOME", ".local/share") / APP / "oncall.db"


def default_export_dir() -> Path:
    return state_dir() / "context"


def resolve_db(db_arg: str | Path | None, config_arg: str | Path | None) -> DbLocation:
    """The DB path as :func:`~oncall_tui.config.load_settings` finds it, without pydantic-settings.

    Same precedence: ``--db`` (or ``ONCALL_TUI_DB``), then ``db`` in the TOML file (``--config``,
    ``ONCALL_TUI_CONFIG``, or the XDG default), then the XDG data dir. A test holds the two
    in agreement; this copy exists only because importing the settings costs ~150 ms, which the
    agent hook and the listing commands cannot afford. Only ``db`` is read: the rest of the file
    is for the commands that use it to refuse when it is wrong.
    """
    explicit = db_arg or os.environ.get("ONCALL_TUI_DB")
    if explicit:
        return db_location(explicit)
    config = chosen_config_file(config_arg)
    if (config_arg or os.environ.get("ONCALL_TUI_CONFIG")) and not config.is_file():
        raise FileNotFoundError(f"config file not found: {config}")
    if not config.is_file():
        return default_db_path()
    # The first key spelled ``db`` in any case, as pydantic-settings matches top-level keys.
    value = next((v for k, v in read_config_file(config).items() if k.lower() == "db"), None)
    if value is None:
        return default_db_path()
    try:
        return db_location(value)
    except ValueError as exc:
        raise ValueError(f"{config}: db: {exc}") from None


def read_config_file(config: Path) -> dict[str, object]:
    """The TOML file's tables, or a ValueError saying which file and why, in the settings' words
    (``config.toml: not valid TOML: ...``)."""
    import tomllib

    try:
        return tomllib.loads(config.read_bytes().decode())
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"{config}: not valid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ValueError(f"{config}: {exc}") from None
