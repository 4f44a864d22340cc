"""``oncall-tui hook cursor`` run as Cursor runs it, on a real DB and a real checkout.

Payloads are shaped as Cursor's hooks documentation shows them (https://cursor.com/docs/agent/hooks,
mirrored in pcomans/caruso ``reference/cursor_hooks.md``): every input carries
``conversation_id``, ``generation_id``, ``model``, ``hook_event_name``, ``cursor_version``,
``workspace_roots`` and ``user_email``; ``beforeShellExecution`` adds ``command`` and ``cwd``;
``stop`` adds ``status`` and ``loop_count``. Before-tool answers are
``{"permission", "user_message", "agent_message"}``; ``stop`` may answer ``followup_message``.
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

CONVERSATION = "c8b1f3a2-4d5e-4f60-8a7b-9c0d1e2f3a4b"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def cursor(world: World, name: str, **fields: Any) -> AgentRun:
    payload = {
        "conversation_id": CONVERSATION,
        "generation_id": "g-42",
        "model": "claude-4.5-sonnet",
        "hook_event_name": name,
        "cursor_version": "2.1.6",
        "workspace_roots": [str(world.repo)],
        "user_email": "dev@example.com",
        **fields,
    }
    return run_agent_hook(world.db, "cursor", payload, cwd=world.repo)


def edit(path: str) -> dict[str, Any]:
    return {
        "tool_name": "Write",
        "tool_input": {"file_path": str(Path(path)), "contents": "retries = 5\n"},
        "tool_use_id": "tool_1",
    }


@pytest.fixture
def started(world: World) -> World:
    run = cursor(world, "sessionStart", session_id=CONVERSATION, is_background_agent=False)
    assert run.clean
    assert world.approve_pending(), "registering in the repo should target the session"
    return world


def test_session_start_registers_a_cursor_session_from_the_workspace_root(world: World) -> None:
    run = cursor(world, "sessionStart", session_id=CONVERSATION, is_background_agent=False)

    assert run.clean
    session = stored_session(world, CONVERSATION)
    assert session is not None
    assert (session["agent"], session["repo"]) == ("cursor", "acme-payments/payments-api")


def test_a_resumed_session_hears_the_context_as_additional_context(started: World) -> None:
    run = cursor(started, "sessionStart", session_id=CONVERSATION, is_background_agent=False)

    assert "INC-1" in run.output["additional_context"]


def test_a_prompt_cannot_carry_context_so_the_stop_says_it_once(started: World) -> None:
    before = deliveries(started)  # a notice may have been said at the start
    prompt = cursor(started, "beforeSubmitPrompt", prompt="speed up the retries", attachments=[])
    assert (prompt.clean, prompt.stdout, deliveries(started) - before) == (True, "", 0)

    stop = cursor(started, "stop", status="completed", loop_count=0)
    again = cursor(started, "stop", status="completed", loop_count=0)

    assert "INC-1" in stop.output["followup_message"]
    assert (again.clean, again.stdout, deliveries(started) - before) == (True, "", 1)


def test_editing_a_file_of_the_degraded_service_asks(started: World) -> None:
    run = cursor(started, "preToolUse", **edit(str(started.repo / AFFECTED)), cwd=str(started.repo))

    output = run.output
    assert output["permission"] == "ask"
    assert output["user_message"].startswith(f"INC-1 (critical, triggered): {AFFECTED} belongs")
    assert output["agent_message"].startswith(output["user_message"])
    assert "do not try another way" in output["agent_message"]


def test_an_unrelated_file_passes(started: World) -> None:
    run = cursor(started, "preToolUse", **edit(str(started.repo / UNRELATED)))

    assert (run.clean, run.stdout) == (True, "")
    assert UNRELATED in (stored_session(started, CONVERSATION) or {})["paths"]


def test_a_shell_write_asks_before_shell_execution(started: World) -> None:
    command = f"echo 'retries = 5' >> {AFFECTED}"
    run = cursor(started, "beforeShellExecution", command=command, cwd=str(started.repo))

    assert run.output["permission"] == "ask"


def test_a_read_only_shell_command_passes(started: World) -> None:
    run = cursor(started, "beforeShellExecution", command="git status", cwd=str(started.repo))

    assert (run.clean, run.stdout) == (True, "")


@pytest.mark.parametrize(
    "stdin",
    [
        "{",
        "null",
        json.dumps({"hook_event_name": "afterAgentThought", "conversation_id": CONVERSATION}),
        json.dumps({"hook_event_name": "sessionStart", "workspace_roots": ["/"]}),
    ],
    ids=["garbage", "not an object", "unhandled event", "no conversation"],
)
def test_bad_input_prints_nothing_and_exits_0(world: World, stdin: str) -> None:
    run = run_agent_hook(world.db, "cursor", stdin, cwd=world.repo)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert world.rows("SELECT count(*) FROM sessions") == [(0,)]
