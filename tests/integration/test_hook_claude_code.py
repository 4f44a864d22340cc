"""``oncall-tui hook claude-code`` beyond prompts and edits: mid-turn delivery and shell writes.

Payloads are shaped as Claude Code's hooks reference shows them
(https://code.claude.com/docs/en/hooks: PostToolUse and PostToolBatch ``additionalContext``
reaches the model next to the tool result; the reason of a PreToolUse ``ask`` reaches only the
user, ``additionalContext`` the model; Bash's ``tool_input.command``).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_hook import SESSION, World, hook_event
from tests.support.agent_hooks import (
    AFFECTED,
    AgentRun,
    deliveries,
    make_world,
    run_agent_hook,
)


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def claude(world: World, name: str, **fields: Any) -> AgentRun:
    payload = hook_event(name, SESSION, world.repo, permission_mode="default", **fields)
    return run_agent_hook(world.db, "claude-code", payload, cwd=world.repo)


def bash(command: str) -> dict[str, Any]:
    return {
        "tool_name": "Bash",
        "tool_input": {"command": command, "description": "Bump the retries"},
        "tool_use_id": "toolu_2",
    }


@pytest.fixture
def started(world: World) -> World:
    assert claude(world, "SessionStart", source="startup").clean
    assert world.approve_pending(), "registering in the repo should target the session"
    return world


@pytest.mark.parametrize("event", ["PostToolUse", "PostToolBatch"])
def test_news_reaches_a_long_turn_after_a_tool_once(started: World, event: str) -> None:
    before = deliveries(started)  # a notice may have been said at the start
    fields = bash("pytest -q") | {"tool_response": {"stdout": "1 passed"}}
    first = claude(started, event, **fields)
    again = claude(started, event, **fields)

    output = first.output["hookSpecificOutput"]
    assert output["hookEventName"] == event
    assert "INC-1" in output["additionalContext"]
    assert (again.clean, again.stdout, deliveries(started) - before) == (True, "", 1)


def test_the_ask_tells_the_model_why_too(started: World) -> None:
    tool_input = {"file_path": str(started.repo / AFFECTED), "old_string": "a", "new_string": "b"}
    run = claude(started, "PreToolUse", tool_name="Edit", tool_input=tool_input)

    output = run.output["hookSpecificOutput"]
    assert output["permissionDecision"] == "ask"
    assert output["additionalContext"].endswith(output["permissionDecisionReason"])


@pytest.mark.parametrize(
    "command",
    [
        f"sed -i 's/retries = 3/retries = 5/' {AFFECTED}",
        f"echo 'retries = 5' > {AFFECTED}",
        f"cd services/processor && printf x | tee {Path(AFFECTED).name}",
    ],
    ids=["sed -i", "redirection", "tee after cd"],
)
def test_a_shell_write_to_the_degraded_service_asks(started: World, command: str) -> None:
    run = claude(started, "PreToolUse", **bash(command))

    output = run.output["hookSpecificOutput"]
    assert output["permissionDecision"] == "ask"
    assert output["permissionDecisionReason"].startswith(f"INC-1 (critical, triggered): {AFFECTED}")


def test_a_read_only_shell_command_is_not_questioned(started: World) -> None:
    run = claude(started, "PreToolUse", **bash(f"grep -n retries {AFFECTED}"))

    assert (run.clean, run.stdout) == (True, "")
