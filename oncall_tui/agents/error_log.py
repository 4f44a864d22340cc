"""The agents' internal errors, one JSON line each, in a small log beside the DB.

The hook must never break its agent, so it swallows every failure; the MCP server turns
unexpected ones into a bare "the call failed". Without a trace somewhere nobody would learn
that either is failing. :func:`record` appends one line per error to ``<db>.agent-errors.log``
and :func:`recent_errors` counts them for ``/healthz`` and the dashboard header. A store on
PostgreSQL has no file to stand beside: its log is this machine's, in the state directory.

What a line holds is chosen for what cannot leak: the time, the component, the event (only a
short identifier), the exception's class and where it was raised (file, line, function). The
exception's message is never written: it may quote the hook's stdin, a prompt, a file's
contents or a session id the sender chose. Neither is any payload text.

The log is bounded: at :data:`MAX_BYTES` it becomes ``.1`` (the previous ``.1`` is dropped), so
at most twice that is ever on disk. Standard library only and nothing heavy, since the hook
path is latency sensitive; writing never raises (a read-only directory or a full disk costs the
line, nothing else). Each line is one ``write()`` on a descriptor opened for appending, so
concurrent hooks do not interleave their lines.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType

from oncall_tui.paths import DbLocation, is_postgres_url, state_dir

LOG_SUFFIX = ".agent-errors.log"
MAX_BYTES = 256 * 1024
"""A log this large is rotated before the next line is written."""
MAX_FRAMES = 12
"""Frames kept from the end of a traceback (where it was raised): enough to find the bug."""
WINDOW = timedelta(hours=24)
_CHUNK = 8192
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}")
"""What an event name may look like to be written; anything else is dropped, not cleaned."""
_IDENTIFIER_WORDS = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,39}( [A-Za-z][A-Za-z0-9_.-]{0,39})?")
"""A component: ``mcp``, ``hook``, ``hook claude-code``; the code names them, never a sender."""


def log_path(db: DbLocation) -> Path:
    """The log beside ``db``: ``oncall.db`` → ``oncall.db.agent-errors.log``."""
    if is_postgres_url(db):
        return state_dir() / ("postgresql" + LOG_SUFFIX)
    db = Path(db)
    return db.with_name(db.name + LOG_SUFFIX)


def rotated_path(db: DbLocation) -> Path:
    """The previous log, kept once: ``oncall.db.agent-errors.log.1``."""
    path = log_path(db)
    return path.with_name(path.name + ".1")


def record(
    db: DbLocation | None,
    component: str,
    error: BaseException | None,
    *,
    event: str | None = None,
    now: datetime | None = None,
) -> None:
    """Append one line for ``error``; never raises.

    Nothing is written without a DB file to put the log beside: a hook pointed at a path where
    no oncall-tui DB lives must not leave files there either.
    """
    try:
        if db is None or error is None:
            return
        if is_postgres_url(db):
            log_path(db).parent.mkdir(parents=True, exist_ok=True)
        elif not Path(db).is_file():
            return
        line = error_line(component, error, event=event, now=now)
        append_bounded(log_path(db), rotated_path(db), line.encode("utf-8"))
    except Exception:  # the log is best effort: the caller is already handling a failure
        return


def error_line(
    component: str,
    error: BaseException,
    *,
    event: str | None = None,
    now: datetime | None = None,
    extra: Mapping[str, object] | None = None,
) -> str:
    """The JSON line for ``error``, newline included; no message text, no payload. ``extra``:
    fixed fields the caller adds (a hint, a status), never text from the failure."""
    at = (now or datetime.now(UTC)).astimezone(UTC)
    entry: dict[str, object] = {
        "at": at.isoformat(timespec="milliseconds"),
        "component": component if _IDENTIFIER_WORDS.fullmatch(component) else "unknown",
    }
    if event and _IDENTIFIER.fullmatch(event):
        entry["event"] = event
    entry["error"] = _type_name(error)
    causes = [_type_name(cause) for cause in _causes(error)]
    if causes:
        entry["caused_by"] = causes
    entry["frames"] = _frames(error.__traceback__)
    entry.update(extra or {})
    return json.dumps(entry, separators=(",", ":")) + "\n"


def _type_name(error: BaseException) -> str:
    kind = type(error)
    return (
        kind.__qualname__
        if kind.__module__ == "builtins"
        else f"{kind.__module__}.{kind.__qualname__}"
    )


def _causes(error: BaseException) -> Iterator[BaseException]:
    """The chain behind ``error`` (``raise ... from`` or raised while handling), at most five."""
    seen = {id(error)}
    cause = error.__cause__ or error.__context__
    while cause is not None and id(cause) not in seen and len(seen) <= 5:
        seen.add(id(cause))
        yield cause
        cause = cause.__cause__ or cause.__context__


def _frames(tb: TracebackType | None) -> list[str]:
    """``file:line function`` of the last :data:`MAX_FRAMES` frames, innermost last.

    Read from the traceback objects themselves: the :mod:`traceback` module would also read
    source lines from disk, which costs time and could put code (or worse) in the log.
    """
    frames: list[str] = []
    while tb is not None:
        code = tb.tb_frame.f_code
        frames.append(f"{_short_file(code.co_filename)}:{tb.tb_lineno} {code.co_name}")
        tb = tb.tb_next
    return frames[-MAX_FRAMES:]


def _short_file(filename: str) -> str:
    """Our modules from the package down, anything else by its last two parts: enough to
    find the code, without the home directory or the virtualenv's layout."""
    parts = Path(filename).parts
    if "oncall_tui" in parts:
        return "/".join(parts[len(parts) - 1 - parts[::-1].index("oncall_tui") :])
    return "/".join(parts[-2:])


def append_bounded(path: Path, previous: Path, data: bytes) -> None:
    """One ``write()`` in append mode, after rotating a full log.

    Two hooks may find the log full at once; only the one whose descriptor still names the
    file at ``path`` renames it, so a log just started by a third is not renamed over ``.1``.
    """
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        status = os.fstat(fd)
        if status.st_size >= MAX_BYTES:
            try:
                if os.stat(path).st_ino == status.st_ino:
                    os.replace(path, previous)
            except OSError:
                pass  # another writer rotated it first: write to the fresh log
            os.close(fd)
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        os.write(fd, data)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class RecentErrors:
    """How many internal errors the agents logged in the window, and when the newest was."""

    count: int = 0
    last_at: datetime | None = None


def recent_errors(db: DbLocation, now: datetime, window: timedelta = WINDOW) -> RecentErrors:
    """Errors logged beside ``db`` since ``now - window``; read from the end, stopping at the
    first older line, so a quiet log costs a stat and a short read. Unreadable: none."""
    since = now - window
    count = 0
    last_at: datetime | None = None
    for path in (log_path(db), rotated_path(db)):
        for at in _times_newest_first(path):
            if last_at is None or at > last_at:
                last_at = at
            if at < since:
                return RecentErrors(count, last_at)
            count += 1
    return RecentErrors(count, last_at)


def _times_newest_first(path: Path) -> Iterator[datetime]:
    """The ``at`` of each readable line of ``path``, from the last line back."""
    try:
        with path.open("rb") as file:
            end = file.seek(0, os.SEEK_END)
            tail = b""
            while end > 0:
                start = max(0, end - _CHUNK)
                file.seek(start)
                block = file.read(end - start) + tail
                end = start
                lines = block.split(b"\n")
                tail = lines.pop(0) if end > 0 else b""  # may be cut: completed next round
                for raw in reversed(lines):
                    at = _time_of(raw)
                    if at is not None:
                        yield at
    except OSError:
        return


def _time_of(raw: bytes) -> datetime | None:
    """A line's time, or None for a blank, cut or foreign line."""
    if not raw.strip():
        return None
    try:
        value = json.loads(raw).get("at")
        at = datetime.fromisoformat(value) if isinstance(value, str) else None
    except (ValueError, AttributeError):
        return None
    return at if at is not None and at.tzinfo is not None else None
