"""``oncall-tui hook codex`` run as Codex runs it, on a real DB and a real checkout.

Payloads are shaped as the Codex hooks documentation shows them
(https://developers.openai.com/codex/hooks: common fields ``session_id``, ``transcript_path``,
``cwd``, ``hook_event_name``, ``model``; ``turn_id`` on turn events; ``apply_patch`` with the
patch text in ``tool_input.command``, shell commands as ``Bash``). Codex rejects ``ask`` from
PreToolUse, so a write under an incident is denied with a reason to ask the engineer.
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

SESSION = "019a2f6e-5c1d-7b20-9a43-3f0e8d1c2b7a"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def codex(world: World, name: str, **fields: Any) -> AgentRun:
    payload = {
        "session_id": SESSION,
        "transcript_path": f"/home/dev/.codex/sessions/2026/12/02/rollout-{SESSION}.jsonl",
        "cwd": str(world.repo),
        "hook_event_name": name,
        "model": "gpt-5.3-codex",
        **fields,
    }
    return run_agent_hook(world.db, "codex", payload, cwd=world.repo)


def patch(*paths: str) -> dict[str, Any]:
    body = "".join(f"*** Update File: {p}\n@@\n-retries = 3\n+retries = 5\n" for p in paths)
    return {
        "turn_id": "turn-2",
        "tool_name": "apply_patch",
        "tool_use_id": "call_7",
        "tool_input": {"command": f"*** Begin Patch\n{body}*** End Patch\n"},
    }


def bash(command: str) -> dict[str, Any]:
    return {
        "turn_id": "turn-2",
        "tool_name": "Bash",
        "tool_use_id": "call_8",
        "tool_input": {"command": command},
    }


@pytest.fixture
def started(world: World) -> World:
    run = codex(world, "SessionStart", source="startup")
    assert run.clean
    assert world.approve_pending(), "registering in the repo should target the session"
    return world


def test_session_start_registers_a_codex_session(world: World) -> None:
    run = codex(world, "SessionStart", source="startup")

    assert run.clean
    session = stored_session(world, SESSION)
    assert session is not None
    assert (session["agent"], session["repo"]) == ("codex", "acme-payments/payments-api")


def test_an_approved_push_reaches_the_next_prompt_once_as_additional_context(
    started: World,
) -> None:
    before = deliveries(started)  # a notice may have been said at the start
    first = codex(started, "UserPromptSubmit", turn_id="turn-1", prompt="speed up the retries")
    again = codex(started, "UserPromptSubmit", turn_id="turn-2", prompt="and the tests")

    output = first.output["hookSpecificOutput"]
    assert output["hookEventName"] == "UserPromptSubmit"
    assert "INC-1" in output["additionalContext"] and "UNTRUSTED-" in output["additionalContext"]
    assert (again.clean, again.stdout) == (True, "")
    assert deliveries(started) - before == 1


def test_news_reaches_a_long_turn_after_a_tool_call(started: World) -> None:
    run = codex(started, "PostToolUse", **bash("pytest -q"), tool_response="1 passed")

    assert "INC-1" in run.output["hookSpecificOutput"]["additionalContext"]


def test_a_patch_of_the_degraded_service_is_denied_with_a_reason_to_ask(started: World) -> None:
    run = codex(started, "PreToolUse", **patch(UNRELATED, AFFECTED))

    output = run.output["hookSpecificOutput"]
    assert (output["hookEventName"], output["permissionDecision"]) == ("PreToolUse", "deny")
    reason = output["permissionDecisionReason"]
    assert reason.startswith(f"INC-1 (critical, triggered): {AFFECTED} belongs")
    assert "tell the on-call engineer" in reason
    assert AFFECTED in (stored_session(started, SESSION) or {})["paths"]


def test_a_patch_of_an_unrelated_file_passes(started: World) -> None:
    run = codex(started, "PreToolUse", **patch(UNRELATED))

    assert (run.clean, run.stdout) == (True, "")


def test_a_shell_write_to_the_degraded_service_is_denied(started: World) -> None:
    run = codex(started, "PreToolUse", **bash(f"sed -i 's/3/5/' {AFFECTED}"))

    assert run.output["hookSpecificOutput"]["permissionDecision"] == "deny"


def test_a_read_only_shell_command_passes(started: World) -> None:
    run = codex(started, "PreToolUse", **bash(f"cat {AFFECTED}"))

    assert (run.clean, run.stdout) == (True, "")


@pytest.mark.parametrize(
    "stdin",
    [
        "not json {",
        "[]",
        json.dumps({"hook_event_name": "Stop", "session_id": SESSION}),
        json.dumps({"hook_event_name": "SessionStart", "session_id": "../x", "cwd": "/"}),
    ],
    ids=["garbage", "not an object", "unhandled event", "invalid session id"],
)
def test_bad_input_prints_nothing_and_exits_0(world: World, stdin: str) -> None:
    run = run_agent_hook(world.db, "codex", stdin, cwd=world.repo)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert world.rows("SELECT count(*) FROM sessions") == [(0,)]
