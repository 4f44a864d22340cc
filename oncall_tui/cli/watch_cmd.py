"""``oncall-tui watch``: one line per piece of news for a session, for as long as it runs.

Made for a Claude Code plugin monitor, which runs a command for the whole session and hands
every line it prints to the model mid-session: the line says what is new in our own words and
tells the agent to read its context, where sender text stays fenced. It never writes to the DB
(the agent reading its context through the hook or MCP is what records a delivery), and it
polls with one small read per interval, so any number of sessions may run one.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import FrameType

import click
from click.core import ParameterSource

from oncall_tui.agents.repo import repo_info, repo_slug
from oncall_tui.cli.app_context import app_context, friendly_errors
from oncall_tui.core.agents import InvalidIdError, validate_session_id
from oncall_tui.core.clock import Clock, iso
from oncall_tui.core.watch_line import watch_line
from oncall_tui.paths import DbLocation
from oncall_tui.store.hook_queries import BUSY_TIMEOUT_S, initialised, open_reader
from oncall_tui.store.watch_queries import find_session, journal_head, news_since

DEFAULT_INTERVAL_S = 0.5
SESSION_ENV = "CLAUDE_CODE_SESSION_ID"


class _Stop(Exception):
    """A signal asked the watcher to end: it ends quietly, with status 0."""


@dataclass(frozen=True)
class Target:
    """Whose news to print: a session id, or the open session working in a directory."""

    session_id: str | None = None
    cwd: Path | None = None
    repo: str | None = None
    """The repository of ``cwd`` (``owner/name``), when it is a checkout."""


@dataclass
class Watcher:
    db: DbLocation
    target: Target
    interval_s: float
    from_start: bool
    clock: Clock
    end_after: timedelta
    session_id: str | None = None
    cursor: int | None = None
    printed: set[tuple[str, int, str]] = field(default_factory=set)
    _waiting_noted: bool = False

    def run(self) -> None:
        """Poll until stopped: a signal, our parent going away, or nobody reading stdout."""
        parent = os.getppid()
        conn: sqlite3.Connection | None = None
        try:
            while True:
                try:
                    conn = conn or self._open()
                    if conn is not None:
                        self._poll(conn)
                except sqlite3.Error:
                    # Busy, locked or replaced under us: start afresh at the next interval.
                    # The cursor survives, so nothing is printed twice or skipped.
                    if conn is not None:
                        conn.close()
                    conn = None
                if os.getppid() != parent:  # the session that ran us is gone
                    return
                time.sleep(self.interval_s)
        finally:
            if conn is not None:
                conn.close()

    def _open(self) -> sqlite3.Connection | None:
        """A read connection in autocommit (no snapshot pins the WAL), or None while there is
        no DB of ours yet: a watcher never creates one."""
        if not initialised(self.db):
            return None
        return open_reader(self.db, BUSY_TIMEOUT_S)

    def _poll(self, conn: sqlite3.Connection) -> None:
        if self.cursor is None:
            self.cursor = 0 if self.from_start else journal_head(conn)
        session_id = self.session_id or self._resolve(conn)
        if session_id is None:
            return
        for event in news_since(conn, session_id, self.cursor):
            self.cursor = max(self.cursor, event.seq)
            if event.key in self.printed:
                continue
            self.printed.add(event.key)
            _emit(watch_line(event, session_id))

    def _resolve(self, conn: sqlite3.Connection) -> str | None:
        """The session of the target, looked up until one is found, then kept."""
        found = self.target.session_id
        if found is None and self.target.cwd is not None:
            seen_since = iso(self.clock.now() - self.end_after)
            found = find_session(conn, str(self.target.cwd), self.target.repo, seen_since)
            try:
                found = validate_session_id(found) if found else None
            except InvalidIdError:
                found = None
        if found is None and not self._waiting_noted:
            self._waiting_noted = True
            _note(f"no open session in {self.target.cwd} yet; waiting for one")
        self.session_id = found
        return found


def _emit(line: str) -> None:
    """One line, flushed at once: a monitor hands over a line only when it is complete."""
    try:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()
    except BrokenPipeError as exc:  # nobody reads any more: nothing left to do
        # Point stdout at /dev/null so the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise _Stop from exc


def _note(text: str) -> None:
    click.echo(f"oncall-tui watch: {text}", err=True)


@contextmanager
def _stopped_by_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP (how a session's processes are ended) end the watcher quietly."""

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stop

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@click.command()
@click.option(
    "--session",
    "session_id",
    envvar=SESSION_ENV,
    help=f"The session whose news to print (default: ${SESSION_ENV}, which Claude Code sets"
    " in the environment of what it runs; it wins over --cwd).",
)
@click.option(
    "--cwd",
    type=click.Path(file_okay=False, path_type=Path),
    help="Or: the open session working in this directory (or its repository).",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05, max=60),
    default=DEFAULT_INTERVAL_S,
    show_default=True,
    help="Seconds between two looks at the DB.",
)
@click.option("--from-start", is_flag=True, help="Print what is live already, then the news.")
@friendly_errors
def watch(session_id: str | None, cwd: Path | None, interval: float, from_start: bool) -> None:
    """Print one line per new approved context version of a session, until stopped (experimental).

    For a Claude Code plugin monitor: each line tells the agent to read its context.
    """
    from_env = click.get_current_context().get_parameter_source("session_id")
    if from_env is ParameterSource.ENVIRONMENT and cwd is not None:
        cwd = None  # the agent named its own session: more exact than any directory
    if (session_id is None) == (cwd is None):
        raise click.UsageError("give either --session ID or --cwd DIR")
    if session_id is not None:
        validate_session_id(session_id)
        target = Target(session_id=session_id)
    else:
        assert cwd is not None
        here = cwd.resolve()
        root = repo_info(str(here)).root
        target = Target(cwd=here, repo=repo_slug(root) if root else None)
    app = app_context()
    watcher = Watcher(
        db=app.settings.db,
        target=target,
        interval_s=interval,
        from_start=from_start,
        clock=app.clock,
        end_after=app.rules.timing.end_after,
    )
    with _stopped_by_signals():
        watcher.run()
