"""``oncall-tui hook copilot`` run as GitHub Copilot CLI runs it, on a real DB and a checkout.

Payloads are shaped as the Copilot CLI hooks reference shows them
(https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-hooks-reference):
camelCase inputs (``sessionId``, ``timestamp`` in ms, ``cwd``, ``toolName``, ``toolArgs``)
without an event name, and the VS Code compatible snake_case inputs with ``hook_event_name``.
Copilot ignores sessionStart and userPromptSubmitted output; ``agentStop`` takes
``decision: "block"`` with a ``reason``, ``preToolUse`` a ``permissionDecision``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_hook import World
from tests.support.agent_hooks import (
    AFFECTED,
    UNRELATED,
    AgentRun,
    deliveries,
    make_world,
    run_agent_hook,
    stored_session,
)

SESSION = "0f3e2d1c-9b8a-4765-a4b3-c2d1e0f9a8b7"
NOW_MS = 1_764_666_900_000


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def copilot(world: World, **fields: Any) -> AgentRun:
    payload = {"sessionId": SESSION, "timestamp": NOW_MS, "cwd": str(world.repo), **fields}
    return run_agent_hook(world.db, "copilot", payload, cwd=world.repo)


def tool(name: str, **args: Any) -> dict[str, Any]:
    return {"toolName": name, "toolArgs": args}


@pytest.fixture
def started(world: World) -> World:
    assert copilot(world, source="new", initialPrompt="fix the retries").clean
    assert world.approve_pending(), "registering in the repo should target the session"
    return world


def test_session_start_registers_a_copilot_session_and_prints_nothing(world: World) -> None:
    run = copilot(world, source="new", initialPrompt="fix the retries")

    assert (run.clean, run.stdout) == (True, "")
    session = stored_session(world, SESSION)
    assert session is not None
    assert (session["agent"], session["repo"]) == ("copilot", "acme-payments/payments-api")


def test_a_prompt_cannot_carry_context_so_the_agent_stop_says_it_once(started: World) -> None:
    before = deliveries(started)  # a notice may have been said at the start
    prompt = copilot(started, prompt="speed up the retries")
    assert (prompt.clean, prompt.stdout, deliveries(started) - before) == (True, "", 0)

    transcript = {"transcriptPath": "/home/dev/.copilot/session-state/s.jsonl"}
    stop = copilot(started, stopReason="end_turn", **transcript)
    again = copilot(started, stopReason="end_turn", **transcript)

    assert stop.output["decision"] == "block"
    assert "INC-1" in stop.output["reason"]
    assert (again.clean, again.stdout, deliveries(started) - before) == (True, "", 1)


def test_a_notification_carries_news_as_additional_context(started: World) -> None:
    run = copilot(
        started,
        hook_event_name="Notification",
        message="Agent is idle",
        notification_type="agent_idle",
    )

    assert "INC-1" in run.output["additionalContext"]


def test_editing_a_file_of_the_degraded_service_asks(started: World) -> None:
    run = copilot(started, **tool("edit", path=str(started.repo / AFFECTED), old_str="3"))

    assert run.output["permissionDecision"] == "ask"
    reason = run.output["permissionDecisionReason"]
    assert reason.startswith(f"INC-1 (critical, triggered): {AFFECTED} belongs")


def test_tool_args_sent_as_a_json_string_are_read_too(started: World) -> None:
    args = json.dumps({"path": str(started.repo / AFFECTED), "file_text": "x"})
    run = copilot(started, toolName="create", toolArgs=args)

    assert run.output["permissionDecision"] == "ask"


def test_the_vs_code_compatible_payload_is_understood(started: World) -> None:
    payload = {
        "hook_event_name": "PreToolUse",
        "session_id": SESSION,
        "timestamp": "2026-12-02T09:15:00.000Z",
        "cwd": str(started.repo),
        "tool_name": "bash",
        "tool_input": {"command": f"sed -i 's/3/5/' {AFFECTED}"},
    }
    run = run_agent_hook(started.db, "copilot", payload, cwd=started.repo)

    assert run.output["permissionDecision"] == "ask"


def test_an_unrelated_file_passes(started: World) -> None:
    run = copilot(started, **tool("create", path=str(started.repo / UNRELATED), file_text="x"))

    assert (run.clean, run.stdout) == (True, "")


def test_a_shell_write_asks(started: World) -> None:
    run = copilot(started, **tool("bash", command=f"cp /tmp/retry.py {AFFECTED}"))

    assert run.output["permissionDecision"] == "ask"


@pytest.mark.parametrize(
    "stdin",
    [
        "nope",
        "42",
        json.dumps({"sessionId": SESSION, "timestamp": NOW_MS, "cwd": "/", "reason": "complete"}),
        json.dumps({"timestamp": NOW_MS, "cwd": "/", "source": "new"}),
    ],
    ids=["garbage", "not an object", "unhandled event", "no session id"],
)
def test_bad_input_prints_nothing_and_exits_0(world: World, stdin: str) -> None:
    run = run_agent_hook(world.db, "copilot", stdin, cwd=world.repo)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert world.rows("SELECT count(*) FROM sessions") == [(0,)]
