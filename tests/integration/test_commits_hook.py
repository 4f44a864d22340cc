"""A commit an agent makes is journaled with its session by the agent's own hook.

Claude Code runs ``PostToolUse`` after its Bash tool, with the command in
``tool_input.command`` and the result in ``tool_response`` (payload fields per
https://docs.anthropic.com/en/docs/claude-code/hooks). The hook runs as the real command, in a
real checkout, against a DB with INC-1 pending on payment-processor.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.core.journal import Kind
from oncall_tui.store.commits import commits_by_sha, session_commits
from tests.integration.test_hook import SESSION, World, hook_event
from tests.support.agent_hooks import make_world
from tests.support.git_repos import CLAUDE_TRAILER, commit, git

CLIENT = "services/payments/client.py"


@pytest.fixture
def started(tmp_path: Path) -> Iterator[World]:
    for world in make_world(tmp_path):
        start = world.hook(hook_event("SessionStart", SESSION, world.repo, source="startup"))
        assert start.returncode == 0
        yield world


def bash_done(world: World, command: str) -> dict[str, Any]:
    return hook_event(
        "PostToolUse",
        SESSION,
        world.repo,
        permission_mode="default",
        tool_name="Bash",
        tool_input={"command": command, "description": "Commit the change"},
        tool_response={"stdout": "", "stderr": "", "interrupted": False, "isImage": False},
        tool_use_id="toolu_01ABC",
    )


def commit_entries(world: World) -> list[dict[str, Any]]:
    rows = world.rows(
        "SELECT body FROM journal WHERE kind = ? ORDER BY seq", (Kind.COMMIT_RECORDED,)
    )
    return [json.loads(body) for (body,) in rows]


def test_a_git_commit_in_a_bash_call_is_recorded_with_the_session(started: World) -> None:
    sha = commit(
        started.repo,
        "Drop the processor timeout",
        {CLIENT: "TIMEOUT = None\n"},
        at="2026-11-23T11:40:00+00:00",
        trailer=CLAUDE_TRAILER,
    )
    run = started.hook(
        bash_done(started, 'git add -A && git commit -m "Drop the processor timeout"')
    )
    assert run.returncode == 0 and run.stderr == ""

    (entry,) = commit_entries(started)
    assert entry["sha"] == sha and entry["session_id"] == SESSION
    assert (entry["source"], entry["agent"], entry["files"]) == ("hook", "claude-code", [CLIENT])
    assert entry["trailer"] == CLAUDE_TRAILER
    assert entry["repo"] == "acme-payments/payments-api"
    assert entry["subject"] == "Drop the processor timeout"
    assert entry["authored_at"] == "2026-11-23T11:40:00.000000Z"
    stored = commits_by_sha(started.store.conn, [sha])[sha]
    assert stored.session_id == SESSION and stored.parents
    assert [c.sha for c in session_commits(started.store.conn, [SESSION])] == [sha]

    again = started.hook(bash_done(started, 'git commit -m "Drop the processor timeout"'))
    assert again.returncode == 0 and len(commit_entries(started)) == 1, "recorded once"


def test_commands_that_make_no_commit_record_none(started: World) -> None:
    commit(started.repo, "Human work", {CLIENT: "x = 1\n"}, at="2026-11-23T11:00:00+00:00")
    for command in ("git status", "git log -1", "echo git commit", "git diff HEAD~1"):
        assert started.hook(bash_done(started, command)).returncode == 0
    assert commit_entries(started) == []


def test_a_commit_that_failed_leaves_the_older_head_unrecorded(started: World) -> None:
    commit(started.repo, "Human work", {CLIENT: "x = 2\n"}, at="2026-11-23T11:00:00+00:00")
    reflog = started.repo / git(started.repo, "rev-parse", "--git-path", "logs/HEAD").strip()
    hour_ago = time.time() - 3600
    os.utime(reflog, (hour_ago, hour_ago))  # HEAD moved long before this tool call
    run = started.hook(bash_done(started, "git commit -m 'nothing staged'"))
    assert run.returncode == 0 and commit_entries(started) == []


def test_a_commit_elsewhere_with_dash_c_is_read_there(started: World, tmp_path: Path) -> None:
    sha = commit(
        started.repo, "Retry less", {CLIENT: "RETRIES = 1\n"}, at="2026-11-23T11:41:00+00:00"
    )
    elsewhere = hook_event(
        "PostToolUse",
        SESSION,
        tmp_path,
        tool_name="Bash",
        tool_input={"command": f"git -C {started.repo} commit -am 'Retry less'"},
        tool_response={"stdout": "", "stderr": "", "interrupted": False, "isImage": False},
        tool_use_id="toolu_01ABD",
    )
    assert started.hook(elsewhere).returncode == 0
    (entry,) = commit_entries(started)
    assert (entry["sha"], entry["repo"]) == (sha, "acme-payments/payments-api")
