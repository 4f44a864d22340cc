"""The adapters' parsing and rendering, without a process: every agent maps onto the one
decision, and each command line and agent kind exists for it.

Payload shapes: Codex https://developers.openai.com/codex/hooks, Copilot CLI
https://docs.github.com/en/copilot/reference/copilot-cli-reference/cli-hooks-reference, Cursor
https://cursor.com/docs/agent/hooks, Gemini CLI https://geminicli.com/docs/hooks/reference.
"""

from __future__ import annotations

import json

import pytest

from oncall_tui.agents.hook.adapters import MODULES, adapter
from oncall_tui.agents.hook.model import ActionKind, Event, HookAnswer, HookInput
from oncall_tui.cli.sessions_cmd import hook
from oncall_tui.core.agents import AgentKind

PATCH = "*** Begin Patch\n*** Update File: a.py\n@@\n-x\n+y\n*** End Patch\n"


@pytest.mark.parametrize("name", list(MODULES))
def test_every_adapter_is_a_command_and_an_agent_kind(name: str) -> None:
    assert adapter(name).agent == name
    assert AgentKind(name).value == name
    assert name in hook.commands


def test_codex_reads_apply_patch_as_a_patch_and_bash_as_shell() -> None:
    parse = adapter("codex").parse
    base = {"session_id": "s", "cwd": "/w", "hook_event_name": "PreToolUse", "model": "gpt-5"}

    patched = parse(
        json.dumps(base | {"tool_name": "apply_patch", "tool_input": {"command": PATCH}})
    )
    shell = parse(json.dumps(base | {"tool_name": "Bash", "tool_input": {"command": "ls"}}))

    assert patched is not None and (patched.action.kind, patched.action.text) == (
        ActionKind.PATCH,
        PATCH,
    )
    assert shell is not None and (shell.action.kind, shell.action.text) == (ActionKind.SHELL, "ls")


@pytest.mark.parametrize(
    ("fields", "event"),
    [
        ({"source": "new"}, Event.SESSION_START),
        ({"prompt": "hi"}, Event.PROMPT),
        ({"toolName": "bash", "toolArgs": '{"command": "ls"}'}, Event.PRE_TOOL),
        ({"toolName": "bash", "toolArgs": {}, "toolResult": {}}, Event.POST_TOOL),
        ({"stopReason": "end_turn", "transcriptPath": "/t"}, Event.STOP),
    ],
)
def test_copilot_camel_case_events_are_told_by_their_fields(
    fields: dict[str, object], event: Event
) -> None:
    parsed = adapter("copilot").parse(
        json.dumps({"sessionId": "s", "timestamp": 1, "cwd": "/w"} | fields)
    )

    assert parsed is not None and parsed.event is event


def test_copilot_only_hears_where_its_output_reaches_the_model() -> None:
    parse = adapter("copilot").parse
    start = parse(json.dumps({"sessionId": "s", "cwd": "/w", "source": "new"}))
    stop = parse(json.dumps({"sessionId": "s", "cwd": "/w", "stopReason": "end_turn"}))

    assert start is not None and stop is not None
    assert (start.hears, stop.hears) == (False, True)


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        (
            "claude-code",
            {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "news"}},
        ),
        (
            "codex",
            {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "news"}},
        ),
        (
            "gemini",
            {"hookSpecificOutput": {"hookEventName": "PostToolUse", "additionalContext": "news"}},
        ),
    ],
)
def test_mid_turn_news_is_additional_context(agent: str, expected: dict[str, object]) -> None:
    hook_input = HookInput(agent, Event.POST_TOOL, "s", "/w", native_event="PostToolUse")

    assert json.loads(adapter(agent).render(hook_input, HookAnswer(context="news"))) == expected


@pytest.mark.parametrize("agent", list(MODULES))
def test_nothing_to_say_prints_nothing(agent: str) -> None:
    for event in Event:
        assert adapter(agent).render(HookInput(agent, event, "s", "/w"), HookAnswer()) == ""
