"""Transcript lines shaped as Claude Code and Codex write them, for the discovery tests.

Claude Code: transcripts live in ``~/.claude/projects/<project>/<session-id>.jsonl``
(https://code.claude.com/docs/en/claude-directory, and the ``transcript_path`` of hook inputs,
https://code.claude.com/docs/en/hooks). Each conversational line carries ``sessionId``,
``cwd``, ``gitBranch``, ``timestamp`` and ``type``; an assistant line's ``message.content``
holds Messages API ``tool_use`` blocks (``id``, ``name``, ``input``: the SDK's ToolUseBlock,
https://rubydoc.info/github/anthropics/anthropic-sdk-ruby/main/Anthropic/Models/ToolUseBlock)
whose ``input`` is the tool's input as the hooks page shows it for PreToolUse (``file_path``,
``edits``, ``notebook_path``).

Codex: rollouts live in ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl``; each line
is a ``RolloutLine`` (``openai/codex`` ``codex-rs/protocol/src/protocol.rs``:
``{"timestamp", "type", "payload"}``, ``session_meta`` first with ``id``, ``timestamp``,
``cwd`` and optional ``git``), tool calls are ``response_item`` payloads
(``codex-rs/protocol/src/models.rs``: ``custom_tool_call`` with ``input``, ``function_call``
with JSON ``arguments``, ``local_shell_call`` with ``action.command``).
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

from oncall_tui.core.clock import iso

SECRET = "sk-live-SECRET-MARKER-4f9a"
"""Planted in prompts, answers, tool output and file contents: it must never leave the file."""
CLAUDE_SESSION = "7c9e6679-7425-40de-944b-e07fc1f90ae7"
CODEX_SESSION = "019a2f6e-5c1d-7b20-9a43-3f0e8d1c2b7b"


def _line(data: dict[str, Any]) -> str:
    return json.dumps(data)


def claude_envelope(kind: str, at: datetime, cwd: str, **fields: Any) -> dict[str, Any]:
    return {
        "parentUuid": None,
        "isSidechain": False,
        "userType": "external",
        "cwd": cwd,
        "sessionId": CLAUDE_SESSION,
        "version": "2.1.240",
        "gitBranch": "fix/retries",
        "type": kind,
        "uuid": f"u-{iso(at)}",
        "timestamp": iso(at),
        **fields,
    }


def claude_prompt(at: datetime, cwd: str) -> str:
    message = {"role": "user", "content": f"deploy with key {SECRET} and fix the retries"}
    return _line(claude_envelope("user", at, cwd, message=message))


def claude_tool_use(at: datetime, cwd: str, name: str, tool_input: dict[str, Any]) -> str:
    message = {
        "id": "msg_01",
        "type": "message",
        "role": "assistant",
        "model": "claude-opus-4-5",
        "content": [
            {"type": "text", "text": f"I will use {SECRET} now."},
            {"type": "tool_use", "id": "toolu_01", "name": name, "input": tool_input},
        ],
        "stop_reason": "tool_use",
    }
    return _line(claude_envelope("assistant", at, cwd, message=message, requestId="req_1"))


def claude_tool_result(at: datetime, cwd: str) -> str:
    message = {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_01", "content": SECRET}],
    }
    result = {"type": "text", "file": {"filePath": "/etc/secret", "content": SECRET}}
    return _line(claude_envelope("user", at, cwd, message=message, toolUseResult=result))


def claude_summary() -> str:
    return _line({"type": "summary", "summary": f"Retries ({SECRET})", "leafUuid": "u-1"})


def codex_meta(at: datetime, cwd: str, git: dict[str, str] | None = None) -> str:
    payload: dict[str, Any] = {
        "id": CODEX_SESSION,
        "timestamp": iso(at),
        "cwd": cwd,
        "originator": "codex_cli_rs",
        "cli_version": "0.125.0",
        "source": "cli",
        "model_provider": "openai",
        "base_instructions": {"text": f"You are Codex. {SECRET}"},
    }
    if git is not None:
        payload["git"] = git
    return _line({"timestamp": iso(at), "type": "session_meta", "payload": payload})


def codex_item(at: datetime, payload: dict[str, Any]) -> str:
    return _line({"timestamp": iso(at), "type": "response_item", "payload": payload})


def codex_message(at: datetime) -> str:
    content = [{"type": "input_text", "text": f"use {SECRET} to deploy"}]
    return codex_item(at, {"type": "message", "role": "user", "content": content})


def envelope(*paths: str) -> str:
    body = "".join(f"*** Update File: {p}\n@@\n-token = 1\n+token = '{SECRET}'\n" for p in paths)
    return f"*** Begin Patch\n{body}*** End Patch\n"


def codex_apply_patch(at: datetime, *paths: str) -> str:
    payload = {
        "type": "custom_tool_call",
        "status": "completed",
        "call_id": "call_1",
        "name": "apply_patch",
        "input": envelope(*paths),
    }
    return codex_item(at, payload)


def codex_shell_patch(at: datetime, *paths: str) -> str:
    """Older Codex: apply_patch as the argv of the shell function tool."""
    arguments = json.dumps({"command": ["apply_patch", envelope(*paths)], "workdir": "."})
    payload = {"type": "function_call", "name": "shell", "arguments": arguments, "call_id": "c2"}
    return codex_item(at, payload)


def codex_tool_output(at: datetime) -> str:
    payload = {"type": "function_call_output", "call_id": "c2", "output": envelope("leaked.py")}
    return codex_item(at, payload)


def write_transcript(path: Path, lines: list[str], modified: datetime) -> Path:
    """A transcript file whose modification time is ``modified`` (what the scan filters on)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{line}\n" for line in lines))
    os.utime(path, (modified.timestamp(), modified.timestamp()))
    return path


def claude_path(home: Path, cwd: Path, session_id: str = CLAUDE_SESSION) -> Path:
    """Where Claude Code keeps a session's transcript: the project folder is the cwd with
    separators replaced by dashes."""
    project = str(cwd).replace("/", "-").replace(".", "-")
    return home / ".claude" / "projects" / project / f"{session_id}.jsonl"


def codex_path(home: Path, day: datetime, session_id: str = CODEX_SESSION) -> Path:
    name = f"rollout-{day:%Y-%m-%dT%H-%M-%S}-{session_id}.jsonl"
    return home / ".codex" / "sessions" / f"{day:%Y}" / f"{day:%m}" / f"{day:%d}" / name
