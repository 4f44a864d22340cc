"""The ``hook AGENT`` command lines, answered before the rest of the CLI is imported.

``oncall_tui.cli`` imports every command, the settings (pydantic-settings) and the store before
it parses anything: that alone takes longer than a hook may. ``python -m oncall_tui`` and the
``oncall-tui`` script call :func:`dispatch` first; it takes only the exact hook command lines
(one per agent, :data:`~oncall_tui.agents.hook.adapters.MODULES`) and hands everything else
back. Standard library only, like the fast path it starts.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from oncall_tui.agents.hook.adapters import MODULES, adapter
from oncall_tui.agents.hook.core import answer, emit, report_internal_error
from oncall_tui.core import collector
from oncall_tui.paths import DbLocation, resolve_db

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from oncall_tui.actions import Rules
    from oncall_tui.agents.hook.model import HookInput
    from oncall_tui.config import Settings


def dispatch(argv: Sequence[str]) -> bool:
    """Answer ``[--db PATH] [--config PATH] hook AGENT``; False for any other command line
    (the caller hands it to the CLI). Once it has taken the call it always answers, and the
    process exits 0."""
    options = _hook_options(argv)
    if options is None:
        return False
    db_arg, config_arg, agent, server_arg = options
    text = ""
    hook: HookInput | None = None
    db: DbLocation | None = None
    try:
        chosen = adapter(agent)
        hook = chosen.parse(sys.stdin.buffer.read().decode("utf-8", "replace"))
        server = server_arg or os.environ.get("ONCALL_TUI_SERVER")
        if hook is not None and server:
            from oncall_tui.agents.hook.remote import run_remote

            text = run_remote(chosen, hook, server)
        elif hook is not None:
            # pydantic looks for plugins in every installed package's metadata when the first
            # model is built (the write path's); a hook's models are for no plugin to observe.
            os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")
            db = resolve_db(db_arg, config_arg)
            location = db  # never None, for the closures below (``db`` is, before this line)
            loaded: list[Settings] = []

            def settings() -> Settings:
                if not loaded:
                    from oncall_tui.config import load_settings

                    config = Path(config_arg) if config_arg else None
                    loaded.append(load_settings(config, db=location))
                return loaded[0]

            def rules() -> Rules:
                from oncall_tui.actions import Rules

                return Rules.from_settings(settings())

            def start_server() -> None:
                from oncall_tui.agents.hook.start_server import start_hook_server

                start_hook_server(location, config_arg, settings().sessions.hook_server_idle_s)

            from oncall_tui.core.clock import SystemClock

            # The collector's passes over what a write's imports make (modules, classes,
            # validators) freed nothing: 20-30 ms of a session start deciding itself.
            with collector.paused():
                decided = answer(hook, db, rules, SystemClock(), start_server=start_server)
            text = chosen.render(hook, decided)
    except Exception:
        report_internal_error(
            db or _db_for_the_log(db_arg, config_arg),
            component=f"hook {agent}",
            event=hook.event.value if hook is not None else None,
        )
    emit(text)
    return True


def _db_for_the_log(db_arg: str | None, config_arg: str | None) -> DbLocation | None:
    """The DB beside which a failure before it was resolved is logged; None if it cannot be
    told (a missing config file: the failure being handled may be that very one)."""
    try:
        return resolve_db(db_arg, config_arg)
    except Exception:
        return None


def _hook_options(argv: Sequence[str]) -> tuple[str | None, str | None, str, str | None] | None:
    """(db, config, agent, server) when ``argv`` is exactly a hook command with root options
    (``--server URL``: remote mode, :mod:`~oncall_tui.agents.hook.remote`), else None."""
    values: dict[str, str | None] = {"--db": None, "--config": None, "--server": None}
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
    if len(rest) != 2 or rest[0] != "hook" or rest[1] not in MODULES:
        return None
    return values["--db"], values["--config"], rest[1], values["--server"]
