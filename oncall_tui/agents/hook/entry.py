"""The ``hook claude-code`` command line, answered before the rest of the CLI is imported.

``oncall_tui.cli`` imports every command, the settings (pydantic-settings) and the store before
it parses anything: that alone takes longer than a hook may. ``python -m oncall_tui`` and the
``oncall-tui`` script call :func:`dispatch` first; it takes only the exact hook command line and
hands everything else back. Standard library only, like the fast path it starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from oncall_tui.agents.hook.core import answer, emit, parse_hook_input, report_internal_error
from oncall_tui.paths import default_config_path, default_db_path

if TYPE_CHECKING:
    from oncall_tui.actions import Rules


def dispatch(argv: Sequence[str]) -> bool:
    """Answer ``[--db PATH] [--config PATH] hook claude-code``; False for any other command line
    (the caller hands it to the CLI). Once it has taken the call it always answers, and the
    process exits 0."""
    options = _hook_options(argv)
    if options is None:
        return False
    db_arg, config_arg = options
    text = ""
    try:
        hook = parse_hook_input(sys.stdin.buffer.read().decode("utf-8", "replace"))
        if hook is not None:
            db = resolve_db(db_arg, config_arg)

            def rules() -> Rules:
                from oncall_tui.actions import Rules
                from oncall_tui.config import load_settings

                config = Path(config_arg) if config_arg else None
                return Rules.from_settings(load_settings(config, db=db))

            from oncall_tui.core.clock import SystemClock

            text = answer(hook, db, rules, SystemClock())
    except Exception:
        report_internal_error()
    emit(text)
    return True


def resolve_db(db_arg: str | None, config_arg: str | None) -> Path:
    """The DB path as :func:`~oncall_tui.config.load_settings` finds it, without pydantic-settings.

    Same precedence: ``--db`` (or ``ONCALL_TUI_DB``), then ``db`` in the TOML file (``--config``,
    ``ONCALL_TUI_CONFIG``, or the XDG default), then the XDG data dir. A test holds the two
    in agreement; this copy exists only because importing the settings costs ~150 ms.
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


def _hook_options(argv: Sequence[str]) -> tuple[str | None, str | None] | None:
    """(db, config) when ``argv`` is exactly the hook command with root options, else None."""
    values: dict[str, str | None] = {"--db": None, "--config": None}
    rest = list(argv)
    while rest and rest[0].startswith("--"):
        name, eq, value = rest.pop(0).partition("=")
        if name not in values:
            return None
        if not eq:
            if not rest:
                return None
            value = rest.pop(0)
        values[name] = value
    if rest != ["hook", "claude-code"]:
        return None
    return values["--db"], values["--config"]
