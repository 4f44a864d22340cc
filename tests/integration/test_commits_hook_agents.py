"""Every agent's after-shell hook journals the commit it just made: Codex ``PostToolUse``,
Cursor ``afterShellExecution``, Gemini CLI ``AfterTool``. Payloads are built as each agent's
own hook tests build them, after its documentation (cited there)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.core.journal import Kind
from tests.integration import test_hook_codex, test_hook_cursor, test_hook_gemini
from tests.integration.test_hook import World
from tests.support.agent_hooks import AgentRun, make_world
from tests.support.git_repos import commit

COMMAND = "git commit -am 'Retry less'"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def _codex(world: World) -> tuple[str, AgentRun]:
    test_hook_codex.codex(world, "SessionStart", source="startup")
    done = test_hook_codex.bash(COMMAND) | {"tool_response": "[fix 1a2b3c4] Retry less"}
    return test_hook_codex.SESSION, test_hook_codex.codex(world, "PostToolUse", **done)


def _cursor(world: World) -> tuple[str, AgentRun]:
    session = test_hook_cursor.CONVERSATION
    test_hook_cursor.cursor(world, "sessionStart", session_id=session, is_background_agent=False)
    run = test_hook_cursor.cursor(
        world, "afterShellExecution", command=COMMAND, output="", duration=120, cwd=str(world.repo)
    )
    return session, run


def _gemini(world: World) -> tuple[str, AgentRun]:
    test_hook_gemini.gemini(world, "SessionStart", source="startup")
    done = test_hook_gemini.tool("run_shell_command", command=COMMAND) | {
        "tool_response": {"llmContent": "[fix 1a2b3c4] Retry less", "returnDisplay": ""}
    }
    return test_hook_gemini.SESSION, test_hook_gemini.gemini(world, "AfterTool", **done)


@pytest.mark.parametrize(
    ("agent", "run"), [("codex", _codex), ("cursor", _cursor), ("gemini", _gemini)]
)
def test_the_commit_is_journaled_with_the_session(
    world: World, agent: str, run: Callable[[World], tuple[str, AgentRun]]
) -> None:
    sha = commit(
        world.repo,
        "Retry less",
        {"services/payments/client.py": "RETRIES = 1\n"},
        at="2026-12-02T09:15:00Z",
    )
    session, done = run(world)
    assert done.returncode == 0
    rows = world.rows("SELECT body FROM journal WHERE kind = ?", (Kind.COMMIT_RECORDED,))
    bodies: list[dict[str, Any]] = [json.loads(body) for (body,) in rows]
    assert [(b["sha"], b["session_id"], b["agent"], b["source"]) for b in bodies] == [
        (sha, session, agent, "hook")
    ]
