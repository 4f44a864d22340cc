"""Starting ``oncall-tui hook-server`` for the hooks after this one, when no ``serve`` answers.

A hook that must write pays ~0.3 s of imports; the hook server
(:mod:`~oncall_tui.server.hook_server`) has paid them once and answers the next writes in tens of
milliseconds. It is started detached (its own session, no terminal, the filesystem root as its
directory, so it holds no agent's checkout), and it exits by itself when idle. At most one start
per :data:`RESTART_AFTER_S`: a server that cannot start (a broken config, say) must not cost
every hook a process. Its output goes to a small log beside the DB (overwritten at each start),
which says why the last one stopped or failed. Standard library only, like the hook's fast path.
"""

from __future__ import annotations

import os
import sys
import time
import zlib
from pathlib import Path

from oncall_tui.paths import DbLocation, is_postgres_url, state_dir

SWITCH_VARIABLE = "ONCALL_TUI_HOOK_SERVER"
"""``0``: the hooks of this environment start no hook server, whatever the config says (for a
process tree, as ``ONCALL_TUI_DEBUG`` is; the config's ``sessions.hook_server_idle_s = 0`` is
the setting for a machine)."""
RESTART_AFTER_S = 30.0
"""The least time between two starts (or since the last one wrote its log)."""
LOG_SUFFIX = ".hook-server.log"


def log_path(db: DbLocation) -> Path:
    """``oncall.db`` → ``oncall.db.hook-server.log``; a PostgreSQL database has no file to stand
    beside, so its log is in the state directory, one per database URL."""
    if is_postgres_url(db):
        return state_dir() / f"postgresql-{zlib.crc32(db.encode()):08x}{LOG_SUFFIX}"
    db = Path(db)
    return db.with_name(db.name + LOG_SUFFIX)


def start_hook_server(db: DbLocation, config: str | None, idle_s: float) -> bool:
    """Start a hook server for ``db`` unless hooks may not (``idle_s`` 0, or
    :data:`SWITCH_VARIABLE`) or one was started
    within :data:`RESTART_AFTER_S`; returns whether one was started. Whether it serves is its
    own affair: it steps aside when another process answers already."""
    if idle_s <= 0 or os.environ.get(SWITCH_VARIABLE) == "0":
        return False
    log = log_path(db)
    try:
        if time.time() - log.stat().st_mtime < RESTART_AFTER_S:
            return False
    except FileNotFoundError:
        pass
    import subprocess

    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "oncall_tui"]
    if config:
        command += ["--config", str(Path(config).resolve())]
    command += ["hook-server", "--idle", f"{idle_s:g}"]
    # The DB by environment, not argument: a PostgreSQL URL may carry a password, and every
    # process list shows arguments.
    location = db if is_postgres_url(db) else str(Path(db).resolve())  # it runs from the root
    env = {**os.environ, "ONCALL_TUI_DB": location}
    # It may name the DB and its errors: as private as the DB.
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as output:
        subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=output,
            cwd=os.path.abspath(os.sep),
            env=env,
            start_new_session=True,
            close_fds=True,
        )
    return True
