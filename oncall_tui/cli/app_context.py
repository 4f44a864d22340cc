"""What every command shares: the settings, the store, and how errors reach the user.

Imports stay light (no pydantic, no settings machinery) so the listing commands start fast: the
settings, the rules and the store's journal side are imported the first time a command asks.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import click

from oncall_tui.core.clock import Clock, SystemClock
from oncall_tui.core.sanitize import clean, display_text
from oncall_tui.paths import (
    DbLocation,
    default_config_path,
    default_db_path,
    display_db,
    is_postgres_url,
    resolve_db,
)
from oncall_tui.store.db import StoreUnavailableError, connect, open_db
from oncall_tui.store.schema import SchemaTooNewError

if TYPE_CHECKING:
    from oncall_tui.actions import Rules
    from oncall_tui.config import Settings
    from oncall_tui.store.journal import Store

P = ParamSpec("P")
R = TypeVar("R")


@dataclass
class AppContext:
    config_path: Path | None
    db_override: DbLocation | None
    clock: Clock = field(default_factory=SystemClock)
    init: bool = False
    """``--init``: create the DB's directory when it does not exist."""
    _settings: Settings | None = None
    _store: Store | None = None
    _conn: sqlite3.Connection | None = None
    _opened_path: DbLocation | None = None

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            from oncall_tui.config import load_settings

            overrides = {"db": self.db_override} if self.db_override else {}
            self._settings = load_settings(self.config_path, **overrides)
        return self._settings

    @property
    def rules(self) -> Rules:
        from oncall_tui.actions import Rules

        return Rules.from_settings(self.settings)

    @property
    def db_path(self) -> DbLocation:
        """The DB file or URL. Read without the settings (pydantic, ~100 ms) only when there is no
        configuration to validate: a config file or an ``ONCALL_TUI_*`` override must still be
        refused when it is wrong, whatever command acts on it (a listing does not:
        :attr:`listing_conn`)."""
        if self._settings is None and not configuration_to_validate(self.config_path):
            return resolve_db(self.db_override, None)
        return self.settings.db

    @property
    def conn(self) -> sqlite3.Connection:
        """The migrated SQLite connection, for commands that only read the projection tables
        (no pydantic models, no journal writer)."""
        if self._conn is None:
            self._conn = self._open(self.db_path)
        return self._conn

    @property
    def listing_conn(self) -> sqlite3.Connection:
        """The connection of a read-only listing, which needs nothing of the configuration but
        where the DB is: of the file only ``db`` is read (:func:`~oncall_tui.paths.resolve_db`),
        a file that is not TOML refused; the rest is for the commands acting on it to refuse."""
        if self._conn is None:
            self._conn = self._open(resolve_db(self.db_override, self.config_path))
        return self._conn

    def _open(self, path: DbLocation) -> sqlite3.Connection:
        # The default location is ours to create; a path someone typed that names a
        # directory that is not there is more likely a typo than a wish.
        conn = open_connection(path, make_dirs=self.init or _is_default(path))
        self._opened_path = path
        return conn

    @property
    def store(self) -> Store:
        if self._store is None:
            from oncall_tui.store.journal import Store

            conn = self.conn
            opened = self._opened_path
            self._store = Store(conn, self.clock, opened if isinstance(opened, Path) else None)
        return self._store

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None
        elif self._conn is not None:
            self._conn.close()
        self._conn = None


LEAN_ENVIRONMENT = frozenset(
    f"ONCALL_TUI_{name}"
    for name in ("DB", "CONFIG", "USER", "DEBUG", "SERVER", "TOKEN", "HOOK_SERVER")
)
"""Variables the settings do not validate as overrides of a section: the root options' own
(``--db``, ``--config``), the engineer's name for the journal, the debug switch, the agent
client's server and token, and the hooks' switch for hook servers."""


def configuration_to_validate(config_path: Path | None) -> bool:
    """Whether anything would be validated by :func:`~oncall_tui.config.load_settings`: a
    config file (given, or at the default place) or an ``ONCALL_TUI_*`` override."""
    if config_path is not None or default_config_path().exists():
        return True
    return any(
        name.startswith("ONCALL_TUI_") and name not in LEAN_ENVIRONMENT for name in os.environ
    )


class UserError(click.ClickException):
    """A mistake or an unmet condition the user can fix: one line on stderr, exit 1."""


def open_store(path: Path, clock: Clock, *, make_dirs: bool) -> Store:
    """The store at ``path``, or one line saying why not (no directory, not SQLite)."""
    from oncall_tui.store.journal import Store

    return Store(open_connection(path, make_dirs=make_dirs), clock, path)


def open_connection(location: DbLocation, *, make_dirs: bool) -> sqlite3.Connection:
    """The migrated connection to ``location``, or one line saying why not."""
    if is_postgres_url(location):
        return _open_postgres(location)
    path = Path(location)
    if path.is_dir():
        raise UserError(f"{path} is a directory: --db takes the path of the SQLite file")
    if not path.parent.is_dir():
        if not make_dirs:
            raise UserError(
                f"{path}: directory {path.parent} does not exist "
                "(create it, or add --init to create it)"
            )
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return connect(path)
    except sqlite3.OperationalError as exc:
        raise UserError(f"{path}: cannot open the database ({exc})") from None
    except sqlite3.DatabaseError:
        raise UserError(f"{path} is not an oncall-tui database (not SQLite)") from None


def _open_postgres(url: str) -> sqlite3.Connection:
    try:
        return open_db(url)
    except sqlite3.Error as exc:
        # psycopg's own message names the host and what failed, never the password.
        reason = " ".join(str(exc).split())  # libpq's message runs over several lines
        raise UserError(f"{display_db(url)}: cannot open the database ({reason})") from None


def _is_default(location: DbLocation) -> bool:
    if is_postgres_url(location):
        return False
    return Path(location).expanduser().absolute() == default_db_path().absolute()


def check_keymap(settings: Settings) -> None:
    """``[ui.keymap]`` against the dashboard's bindings: refused before the screen is taken."""
    from oncall_tui.cli.keymap_check import keymap_problems

    problems = keymap_problems(settings.ui.keymap)
    if problems:
        raise UserError("ui.keymap: " + "; ".join(problems))


def require_terminal(what: str) -> None:
    """Refuse at once when there is no terminal to draw on (a pipe, cron, CI).

    Textual would start anyway and spin, drawing to nobody, until killed.
    """
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UserError(
            f"{what} needs a terminal (stdin and stdout are not a TTY); "
            "for scripts use `oncall-tui incidents` or `oncall-tui timeline`"
        )


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn the errors a user can act on into one clear line instead of a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        # ValueError covers ConfigError and the actions' refusals; LookupError covers the
        # queries' NotFoundError (named by base class so this module needs neither import).
        except (SchemaTooNewError, StoreUnavailableError, LookupError, ValueError) as exc:
            # KeyError-style messages come quoted; others are shown as they are.
            message = exc.args[0] if isinstance(exc, LookupError) and exc.args else exc
            raise UserError(display_text(message, ERROR_LIMIT)) from exc
        except OSError as exc:
            text = f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": ")
            raise UserError(display_text(text, ERROR_LIMIT)) from exc

    return wrapper


def app_context() -> AppContext:
    ctx = click.get_current_context()
    obj = ctx.find_object(AppContext)
    if obj is None:  # pragma: no cover - the root group always sets it
        raise click.UsageError("internal: no application context")
    return obj


ERROR_LIMIT = 500
"""An error is one line; one that quotes an id or a name a sender chose stays readable."""


def print_json(value: Any) -> None:
    """JSON on stdout, every control and non-ASCII character escaped (``\u001b``, ``\u202e``).

    The escaping is what keeps escape sequences and bidi overrides in stored sender text from
    reaching the terminal raw, while tools reading the JSON get the text exactly as it was sent.
    """
    text = json.dumps(value, indent=2, sort_keys=True, default=str, ensure_ascii=True)
    sys.stdout.write(ascii_json(text) + "\n")


_NON_ASCII = re.compile(r"[^\x00-\x7e]")
"""DEL included: ``ensure_ascii`` leaves it raw."""


def ascii_json(text: str) -> str:
    """Already serialised JSON with every non-ASCII character escaped, as :func:`print_json`
    does, for documents whose own serialiser keeps them raw (pydantic's ``model_dump_json``).

    Outside strings JSON is printable ASCII, so escaping every such character is valid and
    changes no value; control characters below 0x20 are escaped by every serialiser already.
    """

    def escape(match: re.Match[str]) -> str:
        code = ord(match.group())
        if code <= 0xFFFF:
            return f"\\u{code:04x}"
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"

    return _NON_ASCII.sub(escape, text)


def echo_document(text: str) -> None:
    """A Markdown or HTML document on stdout, without any escape sequence or control character.

    The renderers already sanitise the sender text they quote; this is the terminal's own line
    of defence, so a renderer's slip cannot retitle the window or write the clipboard.
    """
    click.echo(clean(text), nl=False)
