"""Overrides of the edit guard: an engineer lets one session write some files for a while.

Codex and Gemini CLI cannot ask the engineer from a hook, so their guarded calls are denied;
after the engineer has agreed (in the agent's chat), this is how the session gets through.
"""

from __future__ import annotations

from datetime import timedelta

from oncall_tui.core.clock import iso
from oncall_tui.core.journal import GuardAllowed
from oncall_tui.core.sanitize import identifier
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import NotFoundError

MAX_MINUTES = 24 * 60
"""An override lasts a working day at most: it is for one change, not a standing exemption."""


def allow(store: Store, session_id: str, path_glob: str, minutes: int, by: str) -> GuardAllowed:
    """Let ``session_id`` write files matching ``path_glob`` (repository-relative) for
    ``minutes``; journalled as ``guard.allowed``."""
    if not 0 < minutes <= MAX_MINUTES:
        raise ValueError(f"--minutes must be between 1 and {MAX_MINUTES}")
    glob = path_glob.strip().replace("\\", "/").removeprefix("./")
    if not glob or glob.startswith("/") or ".." in glob.split("/"):
        raise ValueError("the path must be relative to the repository, without '..'")
    until = store.clock.now() + timedelta(minutes=minutes)
    with store.write(durable=True) as writer:
        if writer.tables.get_session(session_id) is None:
            raise NotFoundError(f"no session {identifier(session_id)}")
        body = GuardAllowed(session_id=session_id, path_glob=glob, until=iso(until), by=by)
        writer.append(body, actor=by)
    return body
