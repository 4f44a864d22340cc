"""The parsers note committing shell calls (their time and directory), never their text.

Claude Code ``Bash`` input is ``command`` and ``description``
(https://code.claude.com/docs/en/hooks, PreToolUse for Bash). Codex shell calls are
``response_item`` payloads (``openai/codex`` ``codex-rs/protocol/src/models.rs``): ``shell``
with an argv ``command`` and ``workdir``, ``local_shell_call`` whose ``action`` is an ``exec``
with ``command`` and ``working_directory``; ``exec_command`` takes ``cmd`` and ``workdir``
(``codex-rs/core/src/tools/handlers/unified_exec.rs``). Other line shapes come from
``tests/support/transcripts.py``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from oncall_tui.agents.discover.claude_code import parse_transcript
from oncall_tui.agents.discover.codex import parse_rollout
from oncall_tui.agents.discover.facts import MAX_COMMIT_CALLS, CommitCall
from tests.support import transcripts as t

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CWD = "/work/payments-api"


def _bash(at: datetime, command: str) -> str:
    return t.claude_tool_use(at, CWD, "Bash", {"command": command, "description": "run"})


def test_claude_bash_commits_are_noted_with_their_time_and_directory() -> None:
    facts = parse_transcript(
        [
            _bash(AT, "git status && git diff"),
            _bash(AT + timedelta(seconds=5), 'git add -A && git -C sub commit -m "Fix"'),
            _bash(AT + timedelta(seconds=9), "git merge --no-ff fix/retries"),
        ]
    )
    assert facts.commit_calls == [
        CommitCall(AT + timedelta(seconds=5), f"{CWD}/sub"),
        CommitCall(AT + timedelta(seconds=9), CWD),
    ]


def test_only_the_newest_committing_calls_are_kept() -> None:
    lines = [_bash(AT + timedelta(seconds=i), "git commit -m x") for i in range(30)]
    calls = parse_transcript(lines).commit_calls
    assert len(calls) == MAX_COMMIT_CALLS
    assert calls[-1].at == AT + timedelta(seconds=29)


def _call(at: datetime, payload: dict[str, object]) -> str:
    return t.codex_item(at, payload)


def test_codex_shell_local_shell_and_exec_command_commits_are_noted() -> None:
    shell = json.dumps({"command": ["bash", "-lc", "git commit -am 'Fix'"], "workdir": "svc"})
    exec_command = json.dumps({"cmd": "git cherry-pick abc123", "workdir": "/elsewhere"})
    facts = parse_rollout(
        [
            t.codex_meta(AT - timedelta(minutes=1), CWD),
            _call(AT, {"type": "function_call", "name": "shell", "arguments": shell}),
            _call(
                AT + timedelta(seconds=1),
                {
                    "type": "local_shell_call",
                    "call_id": "c1",
                    "status": "completed",
                    "action": {"type": "exec", "command": ["git", "commit", "-m", "x"]},
                },
            ),
            _call(
                AT + timedelta(seconds=2),
                {"type": "function_call", "name": "exec_command", "arguments": exec_command},
            ),
            _call(
                AT + timedelta(seconds=3),
                {"type": "function_call", "name": "exec_command", "arguments": '{"cmd": "ls"}'},
            ),
            t.codex_tool_output(AT + timedelta(seconds=4)),
        ]
    )
    assert facts.commit_calls == [
        CommitCall(AT, f"{CWD}/svc"),
        CommitCall(AT + timedelta(seconds=1), CWD),
        CommitCall(AT + timedelta(seconds=2), "/elsewhere"),
    ]
