"""How long the agent hooks make an agent wait, with 10,000 incidents in the DB.

Claude Code waits for the hook at every prompt and before every edit. Target: p99 at most
:data:`TARGET_RATIO` times the bare interpreter's (``python -c "import sqlite3"``, measured in
the same run) for every moment: what a working session does all the time — a prompt with nothing
new, an edit of a file under an incident (answered ``ask``), an edit elsewhere, a shell write —
and the moments that write: the session start (register), the first sight of a file (a journal
write through the actions) and the end of a shell call that committed. The first delivery is
reported beside them without a target. Every other agent's hook command is timed on the same
moments, same run, same DB (:mod:`tests.benchmarks._hook_agents`). Every figure is a separate
process, started as the agent starts it. The moments that write are timed again with ``serve``
running on the DB, and with a hook server, which the hook hands its writes to; the first write
each answers, right after it started, is reported apart without a target.

Run: ``python -m tests.benchmarks --only hook`` or ``pytest -m benchmark tests/benchmarks``.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.actions import Rules
from oncall_tui.agents.hook.adapters import MODULES
from oncall_tui.agents.hook.start_server import SWITCH_VARIABLE
from oncall_tui.agents.local_api import lease_name
from oncall_tui.core import incidents
from oncall_tui.core.models import IncidentState, Severity, Signal, SignalKind, SignalStatus
from oncall_tui.store.journal import Store
from oncall_tui.store.lease import live_holder
from tests.benchmarks._common import Result, percentile, workdir
from tests.benchmarks._hook_agents import commit_done, session_start, steady_payloads
from tests.benchmarks._serve_alone import serve_alone, wait_for_local_api
from tests.integration.test_hook import (
    CATALOG,
    SESSION,
    World,
    edit_event,
    hook_event,
    make_repo,
    prepare_db,
)
from tests.support.git_repos import git

TARGET_RATIO = 2.5
SELF_DECIDING = {**os.environ, SWITCH_VARIABLE: "0"}
"""The environment of the rows "deciding themselves": no hook starts a hook server (the rows
with one, and with ``serve``, are timed apart)."""
ACTIVE = 10
BASELINE = 'python -c "import sqlite3"'


def add_incidents(store: Store, count: int, active: int) -> None:
    """``count`` incidents, all but ``active`` resolved, in one transaction through the journal
    (as ingest records them, without HTTP and parsing)."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rules = incidents.GroupingRules()
    with store.write() as writer:
        for i in range(count):
            when = start + timedelta(hours=i)
            signal = Signal(
                source="alertmanager",
                kind=SignalKind.ALERT,
                service=f"bench-{i % 997}",
                severity=Severity.ERROR,
                status=SignalStatus.FIRING,
                title=f"bench alert {i}",
                occurred_at=when,
                received_at=when,
                delivery_key=f"bench-delivery-{i}",
                alert_key=f"bench-alert-{i}",
            )
            touched = incidents.record_signal(signal, writer.append, writer.tables, rules)
            if i >= active and touched:
                incident = writer.tables.get_incident(touched[0])
                assert incident is not None
                change = incidents.change_state(incident, IncidentState.RESOLVED, when, "bench")
                writer.append(change, actor="bench")


def prepare(tmp: Path, count: int) -> World:
    """The hook tests' world (checkout, catalog, an incident on payment-processor) in a DB that
    already holds ``count`` other incidents."""
    (tmp / "catalog.yaml").write_text(CATALOG)
    db = tmp / "oncall.db"
    store = Store.open(db)
    try:
        add_incidents(store, count, ACTIVE)
    finally:
        store.close()
    rules = Rules()
    world = World(
        make_repo(tmp / "payments-api"), db, prepare_db(db, tmp / "catalog.yaml", rules), rules
    )
    assert world.rows("SELECT count(*) FROM incidents") == [(count + 1,)]
    return world


def timed(command: list[str], stdin: bytes, cwd: Path, env: dict[str, str] | None = None) -> float:
    """Wall time of one process; ``env`` defaults to :data:`SELF_DECIDING`."""
    started = time.perf_counter()
    done = subprocess.run(
        command, input=stdin, capture_output=True, cwd=cwd, env=env or SELF_DECIDING, check=False
    )
    elapsed = (time.perf_counter() - started) * 1000
    if done.returncode != 0 or done.stderr:
        raise RuntimeError(f"hook failed ({done.returncode}): {done.stderr.decode()[-2000:]}")
    return elapsed


def measure_adapters(world: World, runs: int, write_runs: int) -> dict[str, dict[str, list[float]]]:
    """Every hook command on the same DB and checkout: registered, told the news, then timed on
    the moments a working session repeats (the Claude Code hook's shell write included), on
    session starts (each a new session) and after commits (each a real one, made untimed)."""
    timings: dict[str, dict[str, list[float]]] = {}
    for agent in MODULES:
        session = f"bench-{agent}"
        command = [sys.executable, "-m", "oncall_tui", "--db", str(world.db), "hook", agent]

        def hook(payload: dict[str, Any], command: list[str] = command) -> float:
            return timed(command, json.dumps(payload).encode(), world.repo)

        starts = [
            hook(session_start(agent, f"{session}-start-{i}", world.repo))
            for i in range(write_runs)
        ]
        hook(session_start(agent, session, world.repo))
        world.approve_pending()
        moments = steady_payloads(agent, session, world.repo)
        for payload in moments.values():
            hook(payload)  # news told, files seen and answers cached: the steady state
        if agent == "claude-code":  # its other moments are timed above
            moments = {name: moments[name] for name in ("shell write",)}
        timings[agent] = {name: [hook(p) for _ in range(runs)] for name, p in moments.items()}
        if agent != "claude-code":  # its session start has a row of its own
            timings[agent]["session start"] = starts
        committed = commit_done(agent, session, world.repo)
        timings[agent]["commit"] = [
            commit_then_hook(world.repo, hook, committed) for _ in range(write_runs)
        ]
    return timings


FIRST_ANSWERED = "first write it answers"
"""The row of the first write a just-started ``serve`` or hook server answers."""


def measure_with_serve(tmp: Path, world: World, write_runs: int) -> dict[str, list[float]]:
    """The moments that write, with ``serve`` running on the DB: the hook hands the write to it
    (:mod:`oncall_tui.agents.hook.via_serve`)."""
    with serve_alone(tmp, world.db, {}):
        wait_for_local_api(world.db)
        return measure_handed_writes(world, write_runs, "serve", SELF_DECIDING)


def measure_with_hook_server(world: World, write_runs: int) -> tuple[float, dict[str, list[float]]]:
    """The same moments without ``serve``, hook servers allowed (the default): the first write
    starts one (timed on its own), the hooks after it hand their writes to it."""
    allowed = {k: v for k, v in os.environ.items() if k != SWITCH_VARIABLE}
    claude = [sys.executable, "-m", "oncall_tui", "--db", str(world.db), "hook", "claude-code"]
    starting = session_start("claude-code", "bench-first-write", world.repo)
    first = timed(claude, json.dumps(starting).encode(), world.repo, allowed)
    try:
        wait_for_local_api(world.db)
        return first, measure_handed_writes(world, write_runs, "hook-server", allowed)
    finally:
        stop_hook_server(world.db)


def measure_handed_writes(
    world: World, write_runs: int, tag: str, env: dict[str, str]
) -> dict[str, list[float]]:
    """Every adapter's session start and commit, and the first sight of a new file, while a
    process (``serve`` or a hook server, ``tag``) takes the hooks' writes. The first write it
    answers, a session start, is timed apart (:data:`FIRST_ANSWERED`): the process has just
    started, and what it does once (its first request, its start-up work) is not the steady
    state the other rows measure."""
    claude = [sys.executable, "-m", "oncall_tui", "--db", str(world.db), "hook", "claude-code"]
    first = session_start("claude-code", f"bench-{tag}-first-answered", world.repo)
    timings: dict[str, list[float]] = {
        FIRST_ANSWERED: [timed(claude, json.dumps(first).encode(), world.repo, env)]
    }
    for agent in MODULES:
        command = [sys.executable, "-m", "oncall_tui", "--db", str(world.db), "hook", agent]

        def hook(payload: dict[str, Any], command: list[str] = command) -> float:
            return timed(command, json.dumps(payload).encode(), world.repo, env)

        session = f"bench-{tag}-{agent}"
        timings[f"{agent}: session start"] = [
            hook(session_start(agent, f"{session}-start-{i}", world.repo))
            for i in range(write_runs)
        ]
        hook(session_start(agent, session, world.repo))
        committed = commit_done(agent, session, world.repo)
        timings[f"{agent}: commit"] = [
            commit_then_hook(world.repo, hook, committed) for _ in range(write_runs)
        ]
    timings["edit of a new file (journal write)"] = [
        timed(
            claude,
            json.dumps(
                edit_event(SESSION, world.repo, f"services/processor/{tag}_{i}.py")
            ).encode(),
            world.repo,
            env,
        )
        for i in range(write_runs)
    ]
    return timings


def stop_hook_server(db: Path) -> None:
    """SIGTERM the hook server holding the DB's local lease, and wait until it is gone."""
    with closing(sqlite3.connect(db)) as conn:
        holder = live_holder(conn, lease_name())
    if holder is None or holder.program != "hook-server":
        return
    os.kill(holder.pid, signal.SIGTERM)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(holder.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(holder.pid, signal.SIGKILL)


def commit_then_hook(
    repo: Path, hook: Callable[[dict[str, Any]], float], payload: dict[str, Any]
) -> float:
    """Commit in ``repo`` (untimed), then time the hook that follows the agent's commit."""
    identity = ("-c", "user.name=Dev", "-c", "user.email=dev@example.com")
    git(repo, *identity, "commit", "-q", "--allow-empty", "--no-verify", "-m", "Retry less")
    return hook(payload)


def run(quick: bool = False) -> list[Result]:
    count, runs, write_runs = (1_000, 20, 5) if quick else (10_000, 50, 10)
    with workdir("hook") as tmp:
        world = prepare(tmp, count)
        try:
            command = [
                sys.executable,
                "-m",
                "oncall_tui",
                "--db",
                str(world.db),
                "hook",
                "claude-code",
            ]

            def hook(payload: dict[str, Any]) -> float:
                return timed(command, json.dumps(payload).encode(), world.repo)

            python = [sys.executable, "-c", "import sqlite3"]
            baseline = [timed(python, b"", world.repo) for _ in range(runs)]
            started = hook(world.event("SessionStart", source="startup"))
            world.approve_pending()
            delivered = hook(world.event("UserPromptSubmit", prompt="first"))
            guarded, elsewhere = (
                world.edit("services/processor/retry.py"),
                world.edit("docs/notes.md"),
            )
            hook(guarded), hook(elsewhere)  # first sight of each file: written, answer cached
            steady = {
                "prompt, nothing new": [
                    hook(world.event("UserPromptSubmit", prompt="p")) for _ in range(runs)
                ],
                "edit under an incident (ask)": [hook(guarded) for _ in range(runs)],
                "edit elsewhere": [hook(elsewhere) for _ in range(runs)],
            }
            writes = [
                hook(edit_event(SESSION, world.repo, f"services/processor/new_{i}.py"))
                for i in range(write_runs)
            ]
            starts = [
                hook(hook_event("SessionStart", f"bench-start-{i}", world.repo, source="startup"))
                for i in range(write_runs)
            ]
            adapters = measure_adapters(world, runs, write_runs)
            served = measure_with_serve(tmp, world, write_runs)
            first_write, helped = measure_with_hook_server(world, write_runs)
        finally:
            world.store.close()
    base99 = percentile(baseline, 99)
    target = TARGET_RATIO * base99
    note = f"{count:,} incidents ({ACTIVE + 1} active); {runs} runs"
    write_note = f"{count:,} incidents; {write_runs} runs"

    def row(name: str, samples: list[float], notes: str) -> Result:
        return Result(
            name,
            percentile(samples, 99),
            "ms",
            baseline=base99,
            baseline_label=f"{BASELINE} p99",
            target=target,
            notes=f"p50 {percentile(samples, 50):.0f} ms (baseline {percentile(baseline, 50):.0f});"
            f" {notes}; target {TARGET_RATIO}x the baseline",
        )

    results = [row(f"hook: {name} p99", samples, note) for name, samples in steady.items()]
    results += [
        row(
            f"hook {agent}: {name} p99",
            samples,
            write_note if name in ("session start", "commit") else note,
        )
        for agent, timings in adapters.items()
        for name, samples in timings.items()
    ]
    results.append(row("hook: edit of a new file (journal write) p99", writes, write_note))
    results.append(
        row(
            "hook: session start (register)",
            [started, *starts],
            f"{write_note}; first delivery (render + record) {delivered:.0f} ms, no target",
        )
    )
    results += [
        row(f"hook, serve running: {name} p99", samples, f"{write_note}; serve decides and writes")
        for name, samples in served.items()
        if name != FIRST_ANSWERED
    ]
    results += [
        row(
            f"hook, hook server running: {name} p99",
            samples,
            f"{write_note}; no serve: the hook server the run's first write started decides",
        )
        for name, samples in helped.items()
        if name != FIRST_ANSWERED
    ]
    results += [
        Result(
            f"hook, {where}: {FIRST_ANSWERED}",
            timings[FIRST_ANSWERED][0],
            "ms",
            notes="a session start, right after the process published its address; no target",
        )
        for where, timings in (("serve running", served), ("hook server running", helped))
    ]
    results.append(
        Result(
            "hook: first write without serve (starts the hook server)",
            first_write,
            "ms",
            notes="once per idle period (sessions.hook_server_idle_s); decided by the hook itself",
        )
    )
    return results


@pytest.mark.benchmark
def test_hook_meets_targets() -> None:
    results = run(quick=False)
    for r in results:
        print(f"{r.name}: {r.value:.0f} {r.unit} ({r.notes})")
    assert all(r.passed is not False for r in results), [r.as_json() for r in results]
