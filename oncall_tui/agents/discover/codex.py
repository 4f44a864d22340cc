"""Codex rollouts: ``~/.codex/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl``.

Each line is a ``RolloutLine`` (``openai/codex`` ``codex-rs/protocol/src/protocol.rs``):
``{"timestamp", "type", "payload"}``. The first is ``session_meta``, whose payload holds the
session's ``id``, ``cwd`` and ``timestamp`` and, when Codex ran in a checkout, ``git``
(``commit_hash``, ``branch``, ``repository_url``). Edits go through ``apply_patch``, found in
``response_item`` tool calls (``codex-rs/protocol/src/models.rs``): a ``custom_tool_call`` whose
``input`` is the patch, a ``function_call`` whose JSON ``arguments`` carry it (as ``input``, or
inside a shell ``command``), or a ``local_shell_call``'s ``action.command``. Only the file names
on the patch's header lines are kept, never its body; messages and tool output are not read.
Shell calls (``shell`` and ``local_shell_call`` with an argv, ``shell_command`` and
``exec_command`` with a command line, each with an optional working directory) that run a
committing git command are noted with their time and directory; the command is not kept.
"""

from __future__ import annotations

import json
import os
import shlex
from collections.abc import Iterable, Iterator
from typing import Any

from oncall_tui.agents.commits.hook_commits import commit_command_dir
from oncall_tui.agents.discover.facts import TranscriptFacts, json_records, text_field
from oncall_tui.agents.hook.patch_paths import patch_paths

TOOL_CALLS = frozenset({"custom_tool_call", "function_call", "local_shell_call"})
PATCH_START = "*** Begin Patch"
MAX_DEPTH = 4
"""How deep tool arguments are searched for a patch (a list inside an object is enough)."""
SHELL_FUNCTIONS = frozenset({"shell", "container.exec", "shell_command", "exec_command"})
"""Function tools that run a command: its argv or line under ``command`` (or ``cmd``)."""
SCRIPT_FLAGS = frozenset({"-c", "-lc"})
"""``["bash", "-lc", "SCRIPT"]``: the script is what the shell runs."""


def parse_rollout(lines: Iterable[str]) -> TranscriptFacts:
    """The session's metadata: its own ``session_meta`` (the first), the newest time, patches."""
    facts = TranscriptFacts()
    has_meta = False
    for record in json_records(lines, facts):
        facts.saw_time(record.get("timestamp"))
        payload = record.get("payload")
        if not isinstance(payload, dict):
            continue
        kind = record.get("type")
        if kind == "session_meta" and not has_meta:
            # A fork's rollout may carry its parent's header later on: the first one is ours.
            has_meta = True
            _read_meta(payload, facts)
        elif kind == "response_item" and payload.get("type") in TOOL_CALLS:
            for text in _call_texts(payload):
                if PATCH_START in text:
                    facts.touched(patch_paths(text))
            _read_shell(payload, record.get("timestamp"), facts)
    return facts


def _read_meta(payload: dict[str, Any], facts: TranscriptFacts) -> None:
    facts.session_id = text_field(payload, "id")
    facts.cwd = text_field(payload, "cwd")
    facts.saw_time(payload.get("timestamp"))
    git = payload.get("git")
    if isinstance(git, dict):
        facts.branch = text_field(git, "branch")
        facts.repository_url = text_field(git, "repository_url")


def _read_shell(payload: dict[str, Any], at: object, facts: TranscriptFacts) -> None:
    """Note a shell call that commits, in its working directory (relative to the session's)."""
    if facts.cwd is None:
        return
    if payload.get("type") == "local_shell_call":
        action = payload.get("action")
        call = action if isinstance(action, dict) else {}
        workdir = call.get("working_directory")
    elif payload.get("name") in SHELL_FUNCTIONS and isinstance(payload.get("arguments"), str):
        arguments = _maybe_json(payload["arguments"])
        call = arguments if isinstance(arguments, dict) else {}
        workdir = call.get("workdir")
    else:
        return
    command = _command_line(call.get("command", call.get("cmd")))
    if command is None or "git" not in command:
        return
    where = os.path.join(facts.cwd, workdir) if isinstance(workdir, str) else facts.cwd
    facts.committed(at, commit_command_dir(command, where))


def _command_line(command: object) -> str | None:
    """A shell command line from a command line, or from an argv (a shell's script, if one)."""
    if isinstance(command, str):
        return command
    if not isinstance(command, list) or not all(isinstance(arg, str) for arg in command):
        return None
    if len(command) >= 3 and command[-2] in SCRIPT_FLAGS:
        return str(command[-1])
    return shlex.join(command)


def _call_texts(payload: dict[str, Any]) -> Iterator[str]:
    """The strings a tool call was given: its input, its JSON arguments, its command."""
    for key in ("input", "arguments"):
        value = payload.get(key)
        if isinstance(value, str):
            yield from _strings(_maybe_json(value), 0)
    action = payload.get("action")
    if isinstance(action, dict):
        yield from _strings(action.get("command"), 0)


def _maybe_json(text: str) -> object:
    if not text.lstrip().startswith(("{", "[")):
        return text
    try:
        return json.loads(text)
    except ValueError:
        return text


def _strings(value: object, depth: int) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif depth < MAX_DEPTH and isinstance(value, list):
        for item in value:
            yield from _strings(item, depth + 1)
    elif depth < MAX_DEPTH and isinstance(value, dict):
        for item in value.values():
            yield from _strings(item, depth + 1)
