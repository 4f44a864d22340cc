"""Every edit-guard decision is a journal entry: asked, denied, allowed after an ask.

Hook payloads are shaped as each agent's documentation shows them:
- Claude Code: https://docs.claude.com/en/docs/claude-code/hooks (PreToolUse and PostToolUse
  with ``tool_name``, ``tool_input``, ``tool_use_id``; PostToolUse adds ``tool_response``);
- Cursor: https://cursor.com/docs/agent/hooks (``preToolUse`` asks; ``afterFileEdit`` adds
  ``file_path`` and ``edits``, ``afterShellExecution`` the ``command`` that ran);
- Codex: https://developers.openai.com/codex/hooks (``apply_patch`` with the patch text in
  ``tool_input.command``; PreToolUse cannot answer "ask", so guarded calls are denied).
Each hook runs as the agent runs it: the real command in a subprocess, on a real DB.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.core.journal import Kind
from tests.integration.test_hook import SESSION, World, edit_event, hook_event
from tests.integration.test_hook_codex import SESSION as CODEX_SESSION
from tests.integration.test_hook_codex import codex, patch
from tests.integration.test_hook_cursor import cursor
from tests.integration.test_hook_cursor import edit as cursor_edit
from tests.support.agent_hooks import AFFECTED, UNRELATED, make_world


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


@pytest.fixture
def started(world: World) -> World:
    assert world.hook(world.event("SessionStart", source="startup")).returncode == 0
    assert world.approve_pending()
    return world


def decisions(world: World) -> list[dict[str, Any]]:
    rows = world.rows(
        "SELECT body FROM journal WHERE kind = ? ORDER BY seq", (Kind.GUARD_DECIDED.value,)
    )
    return [json.loads(body) for (body,) in rows]


def oncall(world: World, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(world.db), *args],
        capture_output=True,
        text=True,
        cwd=world.repo,
        env={**os.environ, "ONCALL_TUI_USER": "alice"},
        timeout=60,
        check=False,
    )


def test_an_ask_is_journalled_once_and_an_identical_ask_within_a_minute_is_not(
    started: World,
) -> None:
    first = started.hook(started.edit(AFFECTED))
    again = started.hook(started.edit(AFFECTED))

    assert first.decision["permissionDecision"] == again.decision["permissionDecision"] == "ask"
    assert decisions(started) == [
        {
            "agent": "claude-code",
            "decision": "asked",
            "incident_id": "INC-1",
            "paths": [AFFECTED],
            "service": "payment-processor",
            "session_id": SESSION,
            "tool": "edit",
        }
    ]


def test_an_edit_elsewhere_journals_nothing(started: World) -> None:
    run = started.hook(started.edit(UNRELATED))

    assert (run.returncode, run.stdout) == (0, "")
    assert decisions(started) == []


def test_a_shell_write_is_journalled_without_the_command(started: World) -> None:
    command = f"sed -i 's/retries = 3/retries = 5/' {AFFECTED}"
    started.hook(
        hook_event(
            "PreToolUse",
            SESSION,
            started.repo,
            tool_name="Bash",
            tool_input={"command": command},
            tool_use_id="toolu_2",
        )
    )

    [entry] = decisions(started)
    assert (entry["tool"], entry["paths"]) == ("shell", [AFFECTED])
    assert "sed" not in json.dumps(entry)


def test_the_edit_after_an_ask_is_journalled_as_allowed(started: World) -> None:
    asked = edit_event(SESSION, started.repo, AFFECTED)
    started.hook(asked)
    done = {**asked, "hook_event_name": "PostToolUse", "tool_response": {"success": True}}
    started.hook(done)
    started.hook(done)  # a second report of the same edit is not a second yes

    assert [d["decision"] for d in decisions(started)] == ["asked", "allowed-after-ask"]


def test_a_cursor_file_edit_after_an_ask_is_journalled_as_allowed(world: World) -> None:
    assert cursor(world, "sessionStart", session_id="x", is_background_agent=False).clean
    asked = cursor(world, "preToolUse", **cursor_edit(AFFECTED))
    edited = cursor(
        world,
        "afterFileEdit",
        file_path=str(world.repo / AFFECTED),
        edits=[{"old_string": "retries = 3", "new_string": "retries = 5"}],
    )

    assert asked.output["permission"] == "ask"
    assert (edited.clean, edited.stdout) == (True, "")
    assert [(d["agent"], d["decision"]) for d in decisions(world)] == [
        ("cursor", "asked"),
        ("cursor", "allowed-after-ask"),
    ]


def test_guard_allow_lets_the_next_codex_patch_through_and_journals_it(world: World) -> None:
    assert codex(world, "SessionStart", source="startup").clean
    denied = codex(world, "PreToolUse", **patch(AFFECTED))
    assert denied.output["hookSpecificOutput"]["permissionDecision"] == "deny"

    allowed = oncall(world, "guard", "allow", CODEX_SESSION, "services/processor/*")
    assert allowed.returncode == 0, allowed.stderr
    passed = codex(world, "PreToolUse", **patch(AFFECTED))

    assert (passed.clean, passed.stdout) == (True, "")
    assert [d["decision"] for d in decisions(world)] == ["denied", "allowed-after-ask"]
    [(body,)] = world.rows("SELECT body FROM journal WHERE kind = ?", (Kind.GUARD_ALLOWED.value,))
    assert json.loads(body)["by"] == "user:alice"


def test_guard_allow_refuses_an_unknown_session(world: World) -> None:
    run = oncall(world, "guard", "allow", "nobody", "services/processor/*")

    assert run.returncode != 0 and "no session" in run.stderr


def test_the_timeline_lists_the_decision(started: World) -> None:
    started.hook(started.edit(AFFECTED))

    run = oncall(started, "timeline", "INC-1", "--format", "md")

    assert run.returncode == 0, run.stderr
    assert f"{SESSION} asked before editing {AFFECTED} (payment-processor, INC-1)" in (
        run.stdout.replace("\\", "")
    )
