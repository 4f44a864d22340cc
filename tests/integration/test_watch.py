"""``oncall-tui watch`` run as a Claude Code plugin monitor runs it: a long-lived process whose
every stdout line reaches the model, against a real DB changed by the real actions meanwhile.

A monitor's command runs for the whole session in the session's working directory, and each
line it prints becomes a notification to Claude (Claude Code plugins reference, "Monitors":
https://code.claude.com/docs/en/plugins-reference). So each test pins the exact lines, that
none repeats, and that they come within a couple of seconds of the approval.
"""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions.incidents import change_incident_state
from oncall_tui.actions.pushes import approve, broadcast, edit
from oncall_tui.actions.sessions import register
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import SystemClock
from oncall_tui.core.models import IncidentState
from oncall_tui.store.journal import Store
from tests.integration.test_hook import SESSION, World, write_lock_held
from tests.support.agent_hooks import make_world

LINE_WITHIN_S = 2.0
QUIET_FOR_S = 0.8
"""How long a watcher must stay silent to show it prints nothing more (several intervals)."""
INTERVAL = "0.1"
ADVICE = f"read your context (oncall-tui context {SESSION})"
FIRST = f"INC-1 P-1 v1 update critical payment-processor: {ADVICE}"


@dataclass
class WatchProcess:
    """A running ``oncall-tui watch``, its lines collected by a reader thread."""

    process: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)

    def start_reading(self) -> None:
        assert self.process.stdout is not None
        stdout = self.process.stdout

        def read() -> None:
            for line in stdout:
                self.lines.put(line.rstrip("\n"))

        threading.Thread(target=read, daemon=True).start()

    def next_line(self, within_s: float = LINE_WITHIN_S) -> str:
        try:
            return self.lines.get(timeout=within_s)
        except queue.Empty:
            raise AssertionError(f"no line within {within_s} s") from None

    def assert_quiet(self, for_s: float = QUIET_FOR_S) -> None:
        time.sleep(for_s)
        assert self.lines.empty(), f"unexpected line: {self.lines.get_nowait()!r}"

    def stop(self) -> tuple[int, str]:
        """End it as a session's end does (SIGTERM): its exit status and what it said on stderr."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        _, stderr = self.process.communicate(timeout=10)
        return self.process.returncode, stderr


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


@pytest.fixture
def started(world: World) -> World:
    """The session started in the checkout (its first push P-1 is pending, the notice out)."""
    run = world.hook(world.event("SessionStart", source="startup"))
    assert (run.returncode, run.stderr) == (0, "")
    return world


@pytest.fixture
def watchers() -> Iterator[list[WatchProcess]]:
    running: list[WatchProcess] = []
    yield running
    for watcher in running:
        if watcher.process.returncode is None:
            watcher.stop()


def start_watch(
    world: World,
    watchers: list[WatchProcess],
    *args: str,
    cwd: Path | None = None,
    wait: bool = True,
    session_env: str | None = None,
) -> WatchProcess:
    env = {k: v for k, v in os.environ.items() if k != "CLAUDE_CODE_SESSION_ID"}
    if session_env is not None:
        env["CLAUDE_CODE_SESSION_ID"] = session_env
    process = subprocess.Popen(
        [sys.executable, "-m", "oncall_tui", "--db", str(world.db), "watch", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,  # as a monitor may start it: no input, ever
        cwd=cwd or world.repo,
        env=env,
        text=True,
    )
    watcher = WatchProcess(process)
    watcher.start_reading()
    watchers.append(watcher)
    if wait:
        wait_until_reading(process.pid, world.db)
    return watcher


def wait_until_reading(pid: int, db: Path, within_s: float = 20.0) -> None:
    """Until the watcher holds the DB open, plus a few intervals: its "now" is then taken.

    Python's start takes a variable time, so sleeping a fixed while would race; the open file
    descriptor is what says it has looked. A DB that does not exist yet is not waited for.
    """
    deadline = time.monotonic() + within_s
    fds = Path(f"/proc/{pid}/fd")
    while db.exists() and time.monotonic() < deadline:
        try:
            if any(os.readlink(fd) == str(db) for fd in fds.iterdir()):
                time.sleep(0.3)
                return
        except OSError:  # a descriptor closed while we looked
            pass
        time.sleep(0.02)
    time.sleep(0.5)


def test_each_approval_is_one_line_within_two_seconds_and_never_twice(
    started: World, watchers: list[WatchProcess]
) -> None:
    watch = start_watch(started, watchers, "--session", SESSION, "--interval", INTERVAL)
    watch.assert_quiet()  # the notice was out before the watcher started: not news to it

    began = time.monotonic()
    assert started.approve_pending() == ["P-1"]
    assert watch.next_line() == FIRST
    assert time.monotonic() - began <= LINE_WITHIN_S

    started.hook(started.event("UserPromptSubmit", prompt="hello"))  # P-1 delivered
    edit(started.store, "P-1", "user:alice", "Hands off retry.py: the 2 s timeout is the breaker.")
    assert started.approve_pending() == ["P-2"]
    assert watch.next_line() == f"INC-1 P-2 v2 update critical payment-processor: {ADVICE}"
    watch.assert_quiet()
    assert watch.stop() == (0, ""), "SIGTERM ends it quietly"


def test_a_stand_down_and_a_broadcast_are_lines_of_their_own(
    started: World, watchers: list[WatchProcess]
) -> None:
    started.approve_pending()
    started.hook(started.event("UserPromptSubmit", prompt="hello"))  # heard through the hook
    watch = start_watch(started, watchers, "--session", SESSION, "--interval", INTERVAL)

    broadcast(started.store, "INC-1", "Freeze: no deploys <script>", "user:alice", started.rules)
    line = watch.next_line()
    assert line == (
        "INC-1 P-2 v1 broadcast critical payment-processor: message from the on-call engineer,"
        f" read your context (oncall-tui context {SESSION})"
    )
    assert "Freeze" not in line, "the engineer's text is read in the context, not here"

    change_incident_state(
        started.store, "INC-1", IncidentState.RESOLVED, "user:alice", started.rules
    )
    assert watch.next_line() == (
        "INC-1 P-3 v2 stand-down critical payment-processor: incident resolved, read your"
        f" context before resuming (oncall-tui context {SESSION})"
    )
    watch.assert_quiet()


def test_from_start_prints_what_is_live_already_and_now_does_not(
    started: World, watchers: list[WatchProcess]
) -> None:
    started.approve_pending()

    from_now = start_watch(started, watchers, "--session", SESSION, "--interval", INTERVAL)
    from_start = start_watch(
        started, watchers, "--session", SESSION, "--interval", INTERVAL, "--from-start"
    )

    assert from_start.next_line() == FIRST
    from_start.assert_quiet()
    from_now.assert_quiet()


def test_a_pending_update_is_announced_as_a_notice(
    world: World, watchers: list[WatchProcess]
) -> None:
    watch = start_watch(world, watchers, "--session", SESSION, "--interval", INTERVAL)
    world.hook(world.event("SessionStart", source="startup"))  # proposes P-1 with a notice

    assert watch.next_line() == (
        "INC-1 P-1 v1 notice critical payment-processor: being assessed by the on-call engineer,"
        f" read your context (oncall-tui context {SESSION})"
    )
    world.approve_pending()
    assert watch.next_line() == FIRST, "the approval of the same push is news again"
    watch.assert_quiet()


def test_cwd_waits_for_the_session_then_follows_the_one_working_there(
    world: World, watchers: list[WatchProcess], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    register(world.store, world.rules, "other-1", agent=AgentKind.CODEX, cwd=str(elsewhere))
    watch = start_watch(world, watchers, "--cwd", ".", "--interval", INTERVAL)

    # The monitor starts with the session, possibly before its first hook registers it.
    world.hook(world.event("SessionStart", source="startup"))
    assert watch.next_line().startswith("INC-1 P-1 v1 notice critical payment-processor: ")
    world.approve_pending()
    assert watch.next_line() == FIRST
    watch.assert_quiet()
    code, stderr = watch.stop()
    assert code == 0
    assert "no open session in" in stderr and "waiting for one" in stderr


def test_cwd_in_a_subdirectory_of_the_checkout_finds_the_session(
    started: World, watchers: list[WatchProcess]
) -> None:
    watch = start_watch(started, watchers, "--cwd", "services/processor", "--interval", INTERVAL)
    started.approve_pending()
    assert watch.next_line() == FIRST


def test_the_session_id_claude_code_exports_wins_over_the_directory(
    started: World, watchers: list[WatchProcess], tmp_path: Path
) -> None:
    """Claude Code sets CLAUDE_CODE_SESSION_ID in what it runs: the monitor then needs no
    guess, even where another session works in the same directory."""
    register(started.store, started.rules, "older-1", cwd=str(started.repo))
    watch = start_watch(
        started, watchers, "--cwd", str(tmp_path), "--interval", INTERVAL, session_env=SESSION
    )
    started.approve_pending()
    assert watch.next_line() == FIRST


def test_a_db_shut_to_readers_for_a_while_loses_no_line(
    started: World, watchers: list[WatchProcess]
) -> None:
    started.store.close()  # exclusive locking mode needs the file to itself to begin with
    with write_lock_held(started.db, "locking_mode"):
        watch = start_watch(
            started, watchers, "--session", SESSION, "--interval", INTERVAL, wait=False
        )
        time.sleep(1.5)  # it starts, and every look fails as busy meanwhile
        assert watch.process.poll() is None, "busy is not a reason to stop"
    wait_until_reading(watch.process.pid, started.db)

    store = Store.open(started.db, SystemClock())
    try:
        approve(store, "P-1", "user:alice", Rules())
    finally:
        store.close()
    assert watch.next_line() == FIRST
    watch.assert_quiet()


def test_it_waits_for_a_db_that_does_not_exist_yet(
    world: World, watchers: list[WatchProcess], tmp_path: Path
) -> None:
    missing = World(world.repo, tmp_path / "later.db", world.store, world.rules)
    watch = start_watch(missing, watchers, "--session", SESSION, "--interval", INTERVAL)
    watch.assert_quiet()
    assert watch.process.poll() is None
    assert not missing.db.exists(), "a watcher never creates a DB"


def test_it_needs_exactly_one_of_session_and_cwd(world: World) -> None:
    for args in ([], ["--session", SESSION, "--cwd", "."], ["--session", "../bad"]):
        done = subprocess.run(
            [sys.executable, "-m", "oncall_tui", "--db", str(world.db), "watch", *args],
            capture_output=True,
            text=True,
            env={k: v for k, v in os.environ.items() if k != "CLAUDE_CODE_SESSION_ID"},
            timeout=30,
            check=False,
        )
        assert done.returncode != 0 and done.stdout == "", args
