"""Without ``serve``, the first hook that writes starts ``oncall-tui hook-server``; the rest of the
machine's hooks and decisions go to it, until it is idle or a ``serve`` takes over.

Every process is real: the hooks, the hook server they start (detached, as an agent's hook
leaves it), ``serve``. As in :mod:`tests.integration.test_serve_answers_locally`, a write is
shown to be the hook server's by making pydantic unimportable in the process that asked.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from oncall_tui.actions.pushes import edit
from oncall_tui.agents.export.sync import CONTEXT_MD, SESSIONS, sync
from oncall_tui.agents.hook.start_server import (
    RESTART_AFTER_S,
    SWITCH_VARIABLE,
    log_path,
    start_hook_server,
)
from oncall_tui.agents.local_api import lease_name
from oncall_tui.config import ExportSettings, Settings
from oncall_tui.paths import APP
from oncall_tui.store.db import open_db
from oncall_tui.store.lease import live_holder
from tests.integration.conftest import ServeFactory
from tests.integration.test_hook import SESSION, World, hook_event
from tests.integration.test_hook import world as world  # the fixture, reused
from tests.integration.test_serve_answers_locally import hook, oncall, pending
from tests.support.environment import without_our_variables

IDLE_VARIABLE = "ONCALL_TUI_SESSIONS__HOOK_SERVER_IDLE_S"
WAIT_S = 15.0


def allowed(idle_s: float | None = None) -> dict[str, str]:
    """The environment of a process whose hooks may start hook servers (the tests' switch
    says yes); ``idle_s``: the setting, by environment (None: the default, 600 s)."""
    env = {SWITCH_VARIABLE: "1"}
    if idle_s is not None:
        env[IDLE_VARIABLE] = f"{idle_s:g}"
    return env


def answerer(world: World) -> tuple[str, int] | None:
    """(program, pid) of whoever holds this machine's local-api lease."""
    holder = live_holder(world.store.conn, lease_name())
    return (holder.program, holder.pid) if holder is not None else None


def wait_for(world: World, program: str | None) -> tuple[str, int] | None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        held = answerer(world)
        if (held[0] if held else None) == program:
            return held
        time.sleep(0.05)
    pytest.fail(f"the local answerer is {answerer(world)}, not {program}: {log_text(world)}")


def hook_server_pid(world: World) -> int:
    """Once a hook server answers for the world's DB, its pid."""
    return (wait_for(world, "hook-server") or ("", 0))[1]


def log_text(world: World) -> str:
    path = log_path(world.db)
    return path.read_text() if path.exists() else "(no hook-server log)"


def gone(pid: int, timeout_s: float = WAIT_S) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def hook_servers(world: World) -> Iterator[list[int]]:
    """Pids of the hook servers a test saw; any still alive at its end is killed."""
    pids: list[int] = []
    yield pids
    with contextlib.suppress(sqlite3.Error):  # closed, when the test deleted the DB
        held = answerer(world)
        if held is not None and held[0] == "hook-server":
            pids.append(held[1])
    for pid in pids:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def start_by_hand(world: World, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "oncall_tui", "--db", str(world.db), "hook-server", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=without_our_variables(),
    )


def test_the_first_write_starts_a_hook_server_that_answers_the_next(
    world: World, hook_servers: list[int]
) -> None:
    printed = hook(world, world.event("SessionStart", source="startup"), env=allowed())
    assert "### Being assessed by the on-call engineer" in printed, "decided by the hook itself"
    program, pid = wait_for(world, "hook-server") or ("", 0)
    hook_servers.append(pid)

    push = pending(world)
    done = oncall(world, "approve", push, lean=True)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{push} is approved\n", "")

    guarded = hook(world, world.edit("services/processor/new_retry.py"), lean=True, env=allowed())
    decision = json.loads(guarded)["hookSpecificOutput"]
    assert decision["permissionDecision"] == "ask"
    assert "payment-processor" in decision["permissionDecisionReason"]
    seen = world.rows("SELECT data FROM sessions WHERE id = ?", (SESSION,))[0][0]
    assert "services/processor/new_retry.py" in json.loads(seen)["paths"]
    second = hook(
        world,
        hook_event("SessionStart", "second", world.repo, source="startup"),
        lean=True,
        env=allowed(),
    )
    assert "payment-processor" in second, "a new session registered and told, by the hook server"
    assert answerer(world) == ("hook-server", pid), "one hook server, however many hooks"

    os.kill(pid, signal.SIGTERM)
    assert gone(pid), "SIGTERM stops it"
    assert answerer(world) is None, "a clean stop gives the lease up at once"


def test_a_decision_the_hook_server_takes_reaches_the_agents_files(
    world: World, hook_servers: list[int], tmp_path: Path
) -> None:
    """No exporter runs beside the hook server: it writes the files once it has answered, as
    ``approve`` deciding itself would have."""
    # The default export directory, moved by XDG_STATE_HOME: a setting by ONCALL_TUI_* would
    # need validating, which the lean command below cannot do.
    env = {**allowed(), "XDG_STATE_HOME": str(tmp_path / "state")}
    export_dir = tmp_path / "state" / APP / "context"
    hook(world, world.event("SessionStart", source="startup"), env=env)
    hook_servers.append(hook_server_pid(world))

    push = pending(world)
    done = oncall(world, "approve", push, lean=True, env=env)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{push} is approved\n", "")

    settings = Settings(db=world.db, export=ExportSettings(dir=export_dir))
    deadline = time.monotonic() + WAIT_S
    while (check := sync(world.store, settings, check_only=True)).differing:
        assert time.monotonic() < deadline, f"files not exported: {check.differing}"
        time.sleep(0.05)
    assert check.failed == []
    assert (export_dir / SESSIONS / SESSION / CONTEXT_MD).is_file()


def test_a_decision_made_by_the_command_leaves_a_hook_server_for_the_next(
    world: World, hook_servers: list[int]
) -> None:
    hook(world, world.event("SessionStart", source="startup"))  # this one may start none
    first = pending(world)
    done = oncall(world, "approve", first, env=allowed())
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{first} is approved\n", "")
    hook_servers.append(hook_server_pid(world))

    second = edit(world.store, first, "user:alice", "Hold payment-processor deploys.").id
    done = oncall(world, "reject", second, "--reason", "not this one", lean=True, env=allowed())
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{second} is rejected\n", "")


def test_a_serve_that_starts_takes_over_and_the_hook_server_leaves(
    world: World, serve_process: ServeFactory, hook_servers: list[int]
) -> None:
    started = start_by_hand(world, "--idle", "600")
    hook_servers.append(started.pid)
    wait_for(world, "hook-server")
    serve_process(world.db)
    wait_for(world, "serve")
    assert started.wait(WAIT_S) == 0
    assert started.stderr is not None
    assert "another process answers for the DB now" in started.stderr.read().decode()
    printed = hook(world, world.event("SessionStart", source="startup"), lean=True)
    assert "### Being assessed by the on-call engineer" in printed, "answered by serve"


def test_no_hook_server_starts_while_serve_answers(
    world: World, serve_process: ServeFactory
) -> None:
    serve_process(world.db)
    wait_for(world, "serve")
    refused = start_by_hand(world)
    assert refused.wait(WAIT_S) == 0
    assert refused.stderr is not None
    assert "not started: another process answers" in refused.stderr.read().decode()
    assert answerer(world) is not None and answerer(world)[0] == "serve"  # type: ignore[index]


def test_an_idle_hook_server_exits_and_gives_the_lease_up(
    world: World, hook_servers: list[int]
) -> None:
    started = start_by_hand(world, "--idle", "1")
    hook_servers.append(started.pid)
    wait_for(world, "hook-server")
    assert started.wait(WAIT_S) == 0
    assert started.stderr is not None
    assert "stopped (idle for 1 s)" in started.stderr.read().decode()
    assert answerer(world) is None


def test_a_hook_server_whose_db_is_deleted_exits(world: World, hook_servers: list[int]) -> None:
    started = start_by_hand(world, "--idle", "600")
    hook_servers.append(started.pid)
    wait_for(world, "hook-server")
    world.store.close()
    for path in world.db.parent.glob(world.db.name + "*"):
        path.unlink()
    assert started.wait(WAIT_S) == 0
    assert started.stderr is not None
    assert "the DB is gone" in started.stderr.read().decode()


def test_configured_off_no_hook_server_is_started(world: World) -> None:
    hook(world, world.event("SessionStart", source="startup"), env=allowed(idle_s=0))
    time.sleep(1.0)  # a start would have taken the lease by now (it takes ~0.5 s here)
    assert answerer(world) is None
    assert not log_path(world.db).exists()


def test_starts_are_spaced_so_a_failing_server_costs_no_hook_a_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hook server that cannot start (here: a config file that does not parse) writes why to
    its log, and no hook starts another within the restart interval."""
    monkeypatch.delenv(SWITCH_VARIABLE)
    db, config = tmp_path / "oncall.db", tmp_path / "broken.toml"
    db.touch()
    config.write_text("this is [not toml\n")
    assert start_hook_server(db, str(config), 60)
    deadline = time.monotonic() + WAIT_S
    while "config" not in log_path(db).read_text() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "broken.toml" in log_path(db).read_text()
    assert not start_hook_server(db, str(config), 60), f"spaced by {RESTART_AFTER_S:g} s"
    past = time.time() - RESTART_AFTER_S - 1
    os.utime(log_path(db), (past, past))
    assert start_hook_server(db, str(config), 60), "and started again after it"


def test_the_environment_switch_starts_none(tmp_path: Path) -> None:
    """``ONCALL_TUI_HOOK_SERVER=0`` (set for this test run) wins over the config."""
    db = tmp_path / "oncall.db"
    db.touch()
    assert not start_hook_server(db, None, 600)
    assert not log_path(db).exists()


def test_on_postgresql_it_publishes_and_leaves_as_on_sqlite(pg_url: Callable[[], str]) -> None:
    """Team mode: the lease is in the database the team shares, one per host."""
    url = pg_url()
    conn = open_db(url)
    try:
        started = subprocess.Popen(
            [sys.executable, "-m", "oncall_tui", "--db", url, "hook-server", "--idle", "2"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            env=without_our_variables(),
        )
        deadline = time.monotonic() + WAIT_S
        while live_holder(conn, lease_name()) is None and time.monotonic() < deadline:
            time.sleep(0.05)
        holder = live_holder(conn, lease_name())
        assert holder is not None and (holder.program, holder.pid) == ("hook-server", started.pid)
        assert started.wait(WAIT_S) == 0
        assert started.stderr is not None
        assert "stopped (idle for 2 s)" in started.stderr.read().decode()
        assert live_holder(conn, lease_name()) is None
    finally:
        conn.close()
