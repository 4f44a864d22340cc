"""``oncall-tui hook cursor``: Cursor's hook JSON in, its output format out.

Every Cursor hook input carries ``conversation_id``, stable across turns: that is the session.
Only ``sessionStart``'s ``additional_context`` reaches the model directly; ``beforeSubmitPrompt``
cannot add context, so a prompt only keeps the session fresh, and news that became live during a
turn goes out at ``stop`` as a ``followup_message`` (which Cursor submits as the next user
message). ``preToolUse`` and ``beforeShellExecution`` answer ``permission: "ask"``, with a
``user_message`` for the engineer and an ``agent_message`` for the model.
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

AGENT = "cursor"
BEFORE_SHELL = "beforeShellExecution"
AFTER_FILE_EDIT = "afterFileEdit"
AFTER_SHELL = "afterShellExecution"
EVENTS = {
    "sessionStart": Event.SESSION_START,
    "beforeSubmitPrompt": Event.PROMPT,
    "preToolUse": Event.PRE_TOOL,
    BEFORE_SHELL: Event.PRE_TOOL,
    AFTER_FILE_EDIT: Event.POST_TOOL,
    AFTER_SHELL: Event.POST_TOOL,
    "stop": Event.STOP,
}
SILENT_EVENTS = frozenset({"beforeSubmitPrompt", AFTER_FILE_EDIT, AFTER_SHELL})
"""Events whose output cannot reach the model. The two after-events tell only that a write
the engineer was asked about went ahead (the engineer said yes)."""
EDIT_TOOLS = frozenset({"Write", "Edit", "StrReplace", "MultiEdit", "Delete", "EditNotebook"})
SHELL_TOOLS = frozenset({"Shell"})
FOR_THE_AGENT = (
    " The on-call engineer is asked before this runs; if they decline, leave this code as it is"
    " and do not try another way to change it."
)


def parse(text: str) -> HookInput | None:
    data = load_object(text)
    if data is None:
        return None
    name = data.get("hook_event_name")
    session_id = text_field(data, "conversation_id", "session_id")
    if not isinstance(name, str) or name not in EVENTS or not session_id:
        return None
    event = EVENTS[name]
    return HookInput(
        agent=AGENT,
        event=event,
        session_id=session_id,
        cwd=cwd_or_here(text_field(data, "cwd") or _first_root(data.get("workspace_roots"))),
        action=tool_action(name, data) if event is not Event.STOP else Action(ActionKind.OTHER),
        native_event=name,
        hears=name not in SILENT_EVENTS,
    )


def _first_root(roots: object) -> str:
    """The workspace's first root folder: where the agent works when no cwd is given."""
    if isinstance(roots, list) and roots and isinstance(roots[0], str):
        return roots[0]
    return ""


def tool_action(name: str, data: Mapping[str, Any]) -> Action:
    if name in (BEFORE_SHELL, AFTER_SHELL):
        return shell_action(data.get("command"))
    if name == AFTER_FILE_EDIT:
        return file_action(data)
    tool_name, tool_input = text_field(data, "tool_name"), mapping(data.get("tool_input"))
    if tool_name in EDIT_TOOLS:
        return file_action(tool_input)
    if tool_name in SHELL_TOOLS:
        return shell_action(tool_input.get("command"))
    return file_action(tool_input, ActionKind.OTHER)


def render(hook: HookInput, answer: HookAnswer) -> str:
    if hook.event is Event.PRE_TOOL:
        if answer.guard is None:
            return ""  # no opinion: Cursor's own permission settings decide
        return json_text(
            {
                "permission": "ask",
                "user_message": answer.guard,
                "agent_message": answer.guard + FOR_THE_AGENT,
            }
        )
    if not answer.context:
        return ""
    if hook.event is Event.STOP:
        return json_text({"followup_message": answer.context})
    return json_text({"additional_context": answer.context})


ADAPTER = Adapter(agent=AGENT, parse=parse, render=render)
