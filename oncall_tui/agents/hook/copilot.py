"""``oncall-tui hook copilot``: GitHub Copilot CLI's hook JSON in, its output format out.

Copilot sends two payload shapes: camelCase (``sessionId``, ``toolName``, ``toolArgs``) when
the hook is configured under a camelCase event name, with no event name in the payload, and a
VS Code compatible one (``hook_event_name``, ``session_id``, ``tool_name``, ``tool_input``)
under PascalCase names. The event of a camelCase payload is told by its fields, as documented
for each event.

Copilot ignores what ``sessionStart`` and ``userPromptSubmitted`` print, so those only register
and refresh the session. Context reaches the model through ``agentStop`` (``decision: "block"``
with the context as ``reason``, which starts another turn) and ``notification``
(``additionalContext``, injected as a user message, which can wake an idle session).
``preToolUse`` answers ``ask`` for a write to a file under an incident.
"""

from __future__ import annotations

from collections.abc import Mapping

from oncall_tui.agents.hook.model import (
    Action,
    ActionKind,
    Adapter,
    Event,
    HookAnswer,
    HookInput,
    cwd_or_here,
    file_action,
    json_text,
    load_object,
    mapping,
    shell_action,
    text_field,
)

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Any

AGENT = "copilot"
NOTIFICATION = "Notification"
EVENTS = {
    "SessionStart": Event.SESSION_START,
    "UserPromptSubmit": Event.PROMPT,
    "PreToolUse": Event.PRE_TOOL,
    "PostToolUse": Event.POST_TOOL,
    "Stop": Event.STOP,
    NOTIFICATION: Event.STOP,
}
SILENT_EVENTS = frozenset({"SessionStart", "UserPromptSubmit", "PostToolUse"})
"""Events whose output Copilot CLI does not pass to the model (command hooks)."""
EDIT_TOOLS = frozenset({"create", "edit"})
SHELL_TOOLS = frozenset({"bash", "powershell"})


def event_name(data: Mapping[str, Any]) -> str:
    """The PascalCase event of either payload shape, "" when it cannot be told."""
    named = text_field(data, "hook_event_name")
    if named:
        return named
    # camelCase payloads carry no event name: each event has fields of its own.
    if "toolName" in data:
        return "PostToolUse" if "toolResult" in data else "PreToolUse"
    if "notification_type" in data:
        return NOTIFICATION
    if "stopReason" in data and "agentName" not in data:
        return "Stop"
    if "prompt" in data:
        return "UserPromptSubmit"
    if "source" in data:
        return "SessionStart"
    return ""


def parse(text: str) -> HookInput | None:
    data = load_object(text)
    if data is None:
        return None
    name = event_name(data)
    session_id = text_field(data, "sessionId", "session_id")
    if name not in EVENTS or not session_id:
        return None
    event = EVENTS[name]
    return HookInput(
        agent=AGENT,
        event=event,
        session_id=session_id,
        cwd=cwd_or_here(text_field(data, "cwd")),
        action=tool_action(data) if event is Event.PRE_TOOL else Action(ActionKind.OTHER),
        native_event=name,
        hears=name not in SILENT_EVENTS,
    )


def tool_action(data: Mapping[str, Any]) -> Action:
    tool_name = text_field(data, "toolName", "tool_name")
    tool_args = mapping(data.get("toolArgs", data.get("tool_input")))
    if tool_name in EDIT_TOOLS:
        return file_action(tool_args)
    if tool_name in SHELL_TOOLS:
        return shell_action(tool_args.get("command"))
    return file_action(tool_args, ActionKind.OTHER)


def render(hook: HookInput, answer: HookAnswer) -> str:
    if hook.event is Event.PRE_TOOL:
        if answer.guard is None:
            return ""
        return json_text({"permissionDecision": "ask", "permissionDecisionReason": answer.guard})
    if not answer.context:
        return ""
    if hook.native_event == NOTIFICATION:
        return json_text({"additionalContext": answer.context})
    return json_text({"decision": "block", "reason": answer.context})


ADAPTER = Adapter(agent=AGENT, parse=parse, render=render)
