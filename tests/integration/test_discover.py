"""``oncall-tui sessions discover`` and ``serve`` find sessions that have no hook.

Nothing is mocked: a fake HOME holds a Claude Code transcript and a Codex rollout (shaped as
``tests/support/transcripts.py`` shows, sources cited there) for a real git checkout, the real
CLI runs as a process, and the DB has an active payment-processor incident, so a discovered
session that edited the processor is targeted like one a hook registered.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.conftest import ServeFactory
from tests.integration.test_hook import World
from tests.integration.test_serve_export import wait_for
from tests.support import transcripts as t
from tests.support.agent_hooks import AFFECTED, UNRELATED, make_world, stored_session


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def _home(world: World) -> Path:
    """A HOME with one active session of each agent in the world's checkout."""
    home = world.db.parent / "home"
    now = datetime.now(UTC)
    repo = str(world.repo)
    edit = {"file_path": str(world.repo / AFFECTED), "old_string": "a", "new_string": "b"}
    t.write_transcript(
        t.claude_path(home, world.repo),
        [
            t.claude_summary(),
            t.claude_prompt(now - timedelta(seconds=40), repo),
            t.claude_tool_use(now - timedelta(seconds=30), repo, "Edit", edit),
            t.claude_tool_result(now - timedelta(seconds=29), repo),
            '{"type": "assistant", "message": {"content": [{"type": "tool_u',  # being written
        ],
        now,
    )
    t.write_transcript(
        t.codex_path(home, now),
        [
            t.codex_meta(now - timedelta(minutes=3), repo),
            t.codex_message(now - timedelta(minutes=2)),
            t.codex_apply_patch(now - timedelta(minutes=1), UNRELATED),
            t.codex_tool_output(now - timedelta(minutes=1)),
        ],
        now,
    )
    garbage = t.codex_path(home, now, "garbage")
    garbage.write_bytes(b"\x00\xff not a rollout\n")
    return home


def _cli(world: World, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(world.db), "sessions", "discover", *args],
        capture_output=True,
        text=True,
        cwd=world.db.parent,
        env={**os.environ, "HOME": str(home)},
        timeout=60,
        check=False,
    )


def _journal(world: World) -> str:
    return "\n".join(" ".join(map(str, r)) for r in world.rows("SELECT actor, body FROM journal"))


def test_discover_registers_both_sessions_and_targets_the_one_in_the_radius(world: World) -> None:
    home = _home(world)

    dry = _cli(world, home, "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert {s["outcome"] for s in json.loads(dry.stdout)["sessions"]} == {"registered"}
    assert stored_session(world, t.CLAUDE_SESSION) is None

    done = _cli(world, home, "--json")

    assert done.returncode == 0, done.stderr
    report: dict[str, Any] = json.loads(done.stdout)
    by_id = {s["id"]: s for s in report["sessions"]}
    assert by_id[t.CLAUDE_SESSION]["agent"] == "claude-code"
    assert by_id[t.CLAUDE_SESSION]["paths"] == [AFFECTED]
    assert by_id[t.CODEX_SESSION]["agent"] == "codex"
    assert by_id[t.CODEX_SESSION]["paths"] == [UNRELATED]
    # The line Claude Code is still writing, and the garbage rollout (a file with no session).
    assert (report["skipped_lines"], report["skipped_files"]) == (2, 1)
    claude = stored_session(world, t.CLAUDE_SESSION)
    codex = stored_session(world, t.CODEX_SESSION)
    assert claude is not None and codex is not None
    assert claude["source"] == codex["source"] == "discovered"
    assert claude["repo"] == codex["repo"] == "acme-payments/payments-api"
    pending = world.rows("SELECT session_id FROM pushes WHERE state = 'pending'")
    assert (t.CLAUDE_SESSION,) in pending and (t.CODEX_SESSION,) not in pending
    journal = _journal(world)
    assert t.SECRET not in journal and "leaked.py" not in journal
    assert t.SECRET not in done.stdout + done.stderr


def test_a_second_run_changes_nothing_and_prints_a_table(world: World) -> None:
    home = _home(world)
    assert _cli(world, home).returncode == 0
    seq = world.max_seq()

    again = _cli(world, home)

    assert again.returncode == 0, again.stderr
    assert world.max_seq() == seq
    lines = again.stdout.splitlines()
    assert any(t.CLAUDE_SESSION in line and "unchanged" in line for line in lines)
    assert lines[-1].startswith("2 sessions found, 0 registered; skipped 2 lines, 1 files")


def test_serve_discovers_on_its_interval(
    world: World, serve_process: ServeFactory, tmp_path: Path
) -> None:
    home = _home(world)
    env = {"HOME": str(home), "ONCALL_TUI_DISCOVER__INTERVAL_S": "0.2"}
    world.store.close()  # serve writes; the test reads through its own connections

    served = serve_process(world.db, env_extra=env)

    rows = "SELECT count(*) FROM sessions WHERE json_extract(data, '$.source') = 'discovered'"
    wait_for(lambda: served.endpoint.rows(rows) == [(2,)], "serve to discover both sessions")
    assert served.process.poll() is None
