"""Claude Code transcripts: ``~/.claude/projects/<project>/<session-id>.jsonl``.

Where they live is documented (https://code.claude.com/docs/en/claude-directory, "application
data"; the ``transcript_path`` of every hook input, https://code.claude.com/docs/en/hooks); the
record format is internal to Claude Code, so this reads leniently and only what has stayed put:
each conversational line carries ``sessionId``, ``cwd``, ``gitBranch`` and ``timestamp``, and an
assistant line's ``message.content`` holds Anthropic Messages ``tool_use`` blocks whose
``input`` names the file (``file_path``, ``notebook_path``, ``edits[]``) or, for ``Bash``, holds
the ``command``: one that commits is noted with the line's time and directory, the command
itself is not kept. Anything else on a line (prompts, answers, tool results, file contents) is
never read into the facts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from oncall_tui.agents.commits.hook_commits import commit_command_dir
from oncall_tui.agents.discover.facts import TranscriptFacts, json_records, text_field
from oncall_tui.agents.repo import tool_paths

FILE_TOOLS = frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit", "Read"})
"""Tools whose input names the files the session works on."""
SHELL_TOOLS = frozenset({"Bash"})
"""Tools whose ``command`` input runs in a shell (where a ``git commit`` shows up)."""
NO_BRANCH = frozenset({"HEAD"})
"""What ``gitBranch`` holds on a detached HEAD: no branch."""


def parse_transcript(lines: Iterable[str]) -> TranscriptFacts:
    """The session's metadata; the newest line wins for the id, directory and branch."""
    facts = TranscriptFacts()
    for record in json_records(lines, facts):
        _read_record(record, facts)
    return facts


def _read_record(record: dict[str, Any], facts: TranscriptFacts) -> None:
    facts.session_id = text_field(record, "sessionId") or facts.session_id
    facts.cwd = text_field(record, "cwd") or facts.cwd
    branch = text_field(record, "gitBranch")
    if branch and branch not in NO_BRANCH:
        facts.branch = branch
    facts.saw_time(record.get("timestamp"))
    if record.get("type") != "assistant":
        return
    message = record.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, list):
        return
    for block in content:
        if not isinstance(block, dict) or block.get("type") != "tool_use":
            continue
        tool_input = block.get("input")
        if not isinstance(tool_input, dict):
            continue
        if block.get("name") in FILE_TOOLS:
            facts.touched(tool_paths(tool_input))
        elif block.get("name") in SHELL_TOOLS:
            _read_shell(record, tool_input, facts)


def _read_shell(record: dict[str, Any], tool_input: dict[str, Any], facts: TranscriptFacts) -> None:
    """Note a committing command, in the directory the line says the session was in."""
    command = tool_input.get("command")
    cwd = text_field(record, "cwd") or facts.cwd
    if isinstance(command, str) and "git" in command and cwd is not None:
        facts.committed(record.get("timestamp"), commit_command_dir(command, cwd))
