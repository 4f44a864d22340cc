"""An export of many sessions while an agent's note awaits review, beside the same export without.

``serve``'s exporter brings every open session's files in line after each change, in the same
process as the hooks' answers, so a sync that grows with the sessions squared starves both (one
did while an agent-authored note waited: each session's context read every session, 4.4 s a
sync at 721 sessions). The DB is the export tests' world (the sample catalog, an incident on
payment-processor, its push approved) with :data:`SESSIONS` more Claude Code sessions of
:data:`AGENTS` agents (an agent is a working directory: its sessions are restarts), all touching
payment-processor code. Timed in process: warm syncs (the render cache holds every session's
last rendering), the median of :data:`RUNS`, first without a note, then with one
agent-authored note waiting. Target: the second at most :data:`TARGET_RATIO` times the first.
"""

from __future__ import annotations

import math
import statistics
import time
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks._common import Result, workdir

SESSIONS = 500
AGENTS = 50
RUNS = 5
TARGET_RATIO = 1.5
NOTE = "Retry budget is 3 per request; keep the backoff."


def build(tmp: Path, sessions: int) -> Any:
    """The export tests' world, with ``sessions`` more sessions registered."""
    from oncall_tui.actions.sessions import register
    from oncall_tui.core.agents import AgentKind
    from tests.integration.test_export import REPO, make_world

    (tmp / "payments-api" / "services").mkdir(parents=True)
    world = make_world(tmp)
    for n in range(sessions):
        register(
            world.store,
            world.rules,
            f"bench-{n:04d}",
            agent=AgentKind.CLAUDE_CODE,
            repo=REPO,
            cwd=f"/home/dev/agent-{n % AGENTS:02d}/payments-api",
            paths=["services/processor/retry.py"],
        )
    return world


def median_sync_ms(world: Any, cache: Any) -> float:
    from oncall_tui.agents.export.sync import sync

    sync(world.store, world.settings, cache=cache)  # whatever changed since, written once
    times = []
    for _ in range(RUNS):
        started = time.perf_counter()
        report = sync(world.store, world.settings, cache=cache)
        times.append((time.perf_counter() - started) * 1000)
        if report.failed:
            raise AssertionError(f"the export failed: {report.failed}")
    return statistics.median(times)


def add_agent_note(world: Any) -> None:
    from oncall_tui.actions.notes import add_note
    from oncall_tui.core.agents import NoteKind

    add_note(
        world.store,
        author="agent:bench-0000",
        kind=NoteKind.WARNING,
        text=NOTE,
        service="payment-processor",
        agent_authored=True,
    )


def agent_sessions(sessions: int) -> int:
    """How many of ``sessions`` the note's author's agent has (every :data:`AGENTS`-th)."""
    return math.ceil(sessions / AGENTS)


def shown_to(world: Any) -> int:
    """How many sessions' files show the note: its agent's sessions, and only them."""
    folders = (world.out / "sessions").glob("*/CONTEXT.md")
    return sum(NOTE in path.read_text(encoding="utf-8") for path in folders)


def run(quick: bool = False) -> list[Result]:
    from oncall_tui.agents.export.sync import RenderCache

    sessions = 100 if quick else SESSIONS
    with workdir("export") as tmp:
        world = build(tmp, sessions)
        try:
            cache = RenderCache()
            without = median_sync_ms(world, cache)
            add_agent_note(world)
            with_note = median_sync_ms(world, cache)
            shown = shown_to(world)
        finally:
            world.store.close()
    if shown != agent_sessions(sessions):
        raise AssertionError(f"the note shown to {shown} sessions, not its agent's")
    return [
        Result(
            f"export: sync of {sessions + 1} sessions, an agent's note awaiting review",
            with_note,
            "ms",
            baseline=without,
            baseline_label="the same sync without the note",
            target=TARGET_RATIO * without,
            notes=f"median of {RUNS} warm syncs; {AGENTS} agents; target {TARGET_RATIO}x the"
            " baseline",
        )
    ]


@pytest.mark.benchmark
def test_export_with_a_note_waiting_meets_target() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]
