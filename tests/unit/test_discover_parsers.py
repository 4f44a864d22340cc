"""Transcript parsers: metadata out of Claude Code and Codex lines, never their text.

The sample lines (``tests/support/transcripts.py``) are shaped as each agent writes them; the
sources are cited there.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from oncall_tui.agents.discover.claude_code import parse_transcript
from oncall_tui.agents.discover.codex import parse_rollout
from oncall_tui.agents.discover.files import read_lines
from tests.support import transcripts as t

AT = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
CWD = "/home/dev/payments-api"


def _later(seconds: int) -> datetime:
    return AT + timedelta(seconds=seconds)


def test_a_claude_code_transcript_gives_id_cwd_branch_newest_time_and_tool_files() -> None:
    lines = [
        t.claude_summary(),
        t.claude_prompt(AT, CWD),
        t.claude_tool_use(_later(5), CWD, "Read", {"file_path": f"{CWD}/README.md"}),
        t.claude_tool_result(_later(6), CWD),
        t.claude_tool_use(
            _later(9),
            CWD,
            "MultiEdit",
            {"file_path": f"{CWD}/services/processor/retry.py", "edits": [{"old_string": "a"}]},
        ),
        t.claude_tool_use(_later(12), CWD, "NotebookEdit", {"notebook_path": "nb/load.ipynb"}),
        t.claude_tool_use(_later(15), CWD, "Bash", {"command": "cat /etc/passwd"}),
        t.claude_tool_use(_later(20), CWD, "Read", {"file_path": f"{CWD}/README.md"}),
    ]

    facts = parse_transcript(lines)

    assert facts.session_id == t.CLAUDE_SESSION
    assert facts.cwd == CWD
    assert facts.branch == "fix/retries"
    assert facts.last_activity == _later(20)
    # Bash names no file; the README, read again, is now the most recent.
    assert facts.path_list == [
        f"{CWD}/services/processor/retry.py",
        "nb/load.ipynb",
        f"{CWD}/README.md",
    ]
    assert facts.skipped == 0


def test_a_codex_rollout_gives_its_header_and_the_files_its_patches_name() -> None:
    git = {
        "commit_hash": "9f1c2e7",
        "branch": "main",
        "repository_url": "git@github.com:acme/p.git",
    }
    lines = [
        t.codex_meta(AT, CWD, git),
        t.codex_message(_later(1)),
        t.codex_apply_patch(_later(4), "services/processor/retry.py"),
        t.codex_shell_patch(_later(8), "docs/notes.md", "services/processor/retry.py"),
        t.codex_tool_output(_later(9)),
    ]

    facts = parse_rollout(lines)

    assert facts.session_id == t.CODEX_SESSION
    assert facts.cwd == CWD
    assert facts.branch == "main"
    assert facts.repository_url == "git@github.com:acme/p.git"
    assert facts.last_activity == _later(9)
    # What a tool printed is output, not an edit: leaked.py stays out.
    assert facts.path_list == ["docs/notes.md", "services/processor/retry.py"]


def test_a_codex_local_shell_call_and_a_function_call_apply_patch_count() -> None:
    local = {
        "type": "local_shell_call",
        "call_id": "c3",
        "status": "completed",
        "action": {"type": "exec", "command": ["apply_patch", t.envelope("a.py")], "env": {}},
    }
    function = {
        "type": "function_call",
        "name": "apply_patch",
        "call_id": "c4",
        "arguments": json.dumps({"input": t.envelope("b.py")}),
    }
    facts = parse_rollout(
        [t.codex_meta(AT, CWD), t.codex_item(_later(1), local), t.codex_item(_later(2), function)]
    )
    assert facts.path_list == ["a.py", "b.py"]


def test_the_first_session_meta_is_the_rollouts_own() -> None:
    parent = t.codex_meta(AT, "/elsewhere").replace(t.CODEX_SESSION, "019a0000-parent")
    facts = parse_rollout([t.codex_meta(AT, CWD), parent])
    assert (facts.session_id, facts.cwd) == (t.CODEX_SESSION, CWD)


def test_garbage_and_cut_lines_are_skipped_and_counted() -> None:
    cut = t.claude_tool_use(_later(3), CWD, "Edit", {"file_path": "x.py"})[:40]
    lines = [t.claude_prompt(AT, CWD), "not json", "[1, 2]", "", cut, "\x00\x01{"]

    facts = parse_transcript(lines)

    assert facts.session_id == t.CLAUDE_SESSION
    assert facts.skipped == 4  # the blank line is no line at all; a JSON list is not a record
    assert facts.path_list == []
    assert parse_rollout(["{", "garbage"]).skipped == 2
    assert parse_rollout(["{", "garbage"]).session_id is None


def test_odd_shapes_do_not_break_the_parsers() -> None:
    odd = [
        json.dumps({"type": "assistant", "message": {"content": "text only"}}),
        json.dumps({"type": "assistant", "message": {"content": [1, {"type": "tool_use"}]}}),
        json.dumps({"type": "assistant", "timestamp": "yesterday", "gitBranch": "HEAD"}),
        json.dumps({"type": "assistant", "message": []}),
    ]
    facts = parse_transcript(odd)
    assert (facts.skipped, facts.path_list, facts.branch, facts.last_activity) == (
        0,
        [],
        None,
        None,
    )
    rollout = parse_rollout(
        [
            json.dumps({"type": "session_meta", "payload": "x"}),
            json.dumps(
                {"type": "response_item", "payload": {"type": "function_call", "arguments": "{"}}
            ),
            json.dumps(
                {"type": "response_item", "payload": {"type": "custom_tool_call", "input": 3}}
            ),
        ]
    )
    assert (rollout.skipped, rollout.path_list, rollout.session_id) == (0, [], None)


def test_no_message_text_reaches_the_facts() -> None:
    facts = [
        parse_transcript(
            [
                t.claude_summary(),
                t.claude_prompt(AT, CWD),
                t.claude_tool_use(
                    _later(1), CWD, "Write", {"file_path": "a.py", "content": t.SECRET}
                ),
                t.claude_tool_result(_later(2), CWD),
            ]
        ),
        parse_rollout(
            [
                t.codex_meta(AT, CWD),
                t.codex_message(_later(1)),
                t.codex_apply_patch(_later(2), "a.py"),
            ]
        ),
    ]
    for found in facts:
        assert t.SECRET not in repr(found)


def test_reading_is_bounded_to_the_tail_and_the_first_line(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    header = json.dumps({"type": "session_meta", "n": 0})
    body = [json.dumps({"n": n}) for n in range(1, 40)]
    path.write_text("\n".join([header, *body]) + "\n")

    lines = read_lines(path, with_first=True, tail_bytes=64)

    assert lines[0] == header
    assert lines[-1] == body[-1]
    assert sum(len(line) + 1 for line in lines[1:]) <= 64
    assert all(json.loads(line) for line in lines)  # the window's cut line was dropped
    assert read_lines(path, with_first=False, tail_bytes=64)[0] != header


def test_a_first_line_longer_than_the_head_limit_is_not_taken(tmp_path: Path) -> None:
    path = tmp_path / "rollout.jsonl"
    path.write_text(json.dumps({"type": "session_meta", "pad": "x" * 40}) + '\n{"n": 1}\n')

    assert read_lines(path, with_first=True, head_bytes=16) == ['{"n": 1}']
