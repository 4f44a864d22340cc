"""``oncall-tui hook gemini`` run as Gemini CLI runs it, on a real DB and a real checkout.

Payloads are shaped as Gemini CLI's hooks reference shows them
(https://geminicli.com/docs/hooks/reference, ``docs/hooks/reference.md`` in
google-gemini/gemini-cli): every input carries ``session_id``, ``transcript_path``, ``cwd``,
``hook_event_name`` and ``timestamp``; BeforeTool adds ``tool_name`` and ``tool_input``,
BeforeAgent ``prompt``. Context goes out as ``hookSpecificOutput.additionalContext``; BeforeTool
has no "ask", so a write under an incident is ``decision: "deny"`` with a ``reason``.
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

SESSION = "6d1f0b9e-2c3a-4e5f-8a9b-0c1d2e3f4a5b"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def gemini(world: World, name: str, **fields: Any) -> AgentRun:
    payload = {
        "session_id": SESSION,
        "transcript_path": f"/home/dev/.gemini/tmp/payments-api/chats/session-{SESSION}.json",
        "cwd": str(world.repo),
        "hook_event_name": name,
        "timestamp": "2026-12-02T09:15:00.000Z",
        **fields,
    }
    return run_agent_hook(world.db, "gemini", payload, cwd=world.repo)


def tool(name: str, **tool_input: Any) -> dict[str, Any]:
    return {"tool_name": name, "tool_input": tool_input}


@pytest.fixture
def started(world: World) -> World:
    assert gemini(world, "SessionStart", source="startup").clean
    assert world.approve_pending(), "registering in the repo should target the session"
    return world


def test_session_start_registers_a_gemini_session(world: World) -> None:
    run = gemini(world, "SessionStart", source="startup")

    assert run.clean
    session = stored_session(world, SESSION)
    assert session is not None
    assert (session["agent"], session["repo"]) == ("gemini", "acme-payments/payments-api")


def test_an_approved_push_reaches_the_next_prompt_once(started: World) -> None:
    before = deliveries(started)  # a notice may have been said at the start
    first = gemini(started, "BeforeAgent", prompt="speed up the retries")
    again = gemini(started, "BeforeAgent", prompt="and the tests")

    output = first.output["hookSpecificOutput"]
    assert output["hookEventName"] == "BeforeAgent"
    assert "INC-1" in output["additionalContext"]
    assert (again.clean, again.stdout, deliveries(started) - before) == (True, "", 1)


def test_news_reaches_a_long_turn_after_a_tool(started: World) -> None:
    run = gemini(started, "AfterTool", **tool("read_file", file_path=UNRELATED), tool_response={})

    assert "INC-1" in run.output["hookSpecificOutput"]["additionalContext"]


@pytest.mark.parametrize(
    "call",
    [
        tool("write_file", file_path=AFFECTED, content="retries = 5\n"),
        tool("replace", file_path=AFFECTED, old_string="3", new_string="5"),
    ],
    ids=["write_file", "replace"],
)
def test_editing_a_file_of_the_degraded_service_is_denied(
    started: World, call: dict[str, Any]
) -> None:
    run = gemini(started, "BeforeTool", **call)

    assert run.output["decision"] == "deny"
    assert run.output["reason"].startswith(f"INC-1 (critical, triggered): {AFFECTED} belongs")
    assert "ask the on-call engineer" in run.output["reason"]


def test_an_unrelated_file_passes(started: World) -> None:
    run = gemini(started, "BeforeTool", **tool("write_file", file_path=UNRELATED, content="x"))

    assert (run.clean, run.stdout) == (True, "")


def test_a_shell_write_is_denied(started: World) -> None:
    run = gemini(started, "BeforeTool", **tool("run_shell_command", command=f"rm {AFFECTED}"))

    assert run.output["decision"] == "deny"


@pytest.mark.parametrize(
    "stdin",
    [
        "]",
        '"text"',
        json.dumps({"hook_event_name": "BeforeModel", "session_id": SESSION}),
        json.dumps({"hook_event_name": "SessionStart", "session_id": "a/b", "cwd": "/"}),
    ],
    ids=["garbage", "not an object", "unhandled event", "invalid session id"],
)
def test_bad_input_prints_nothing_and_exits_0(world: World, stdin: str) -> None:
    run = run_agent_hook(world.db, "gemini", stdin, cwd=world.repo)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert world.rows("SELECT count(*) FROM sessions") == [(0,)]
