"""``oncall-tui hook codex``: OpenAI Codex CLI's hook JSON in, its output format out.

Codex follows Claude Code's wire format, with two differences that matter here. File edits go
through ``apply_patch``, whose patch text (``tool_input.command``) names the files; shell tools
arrive as ``Bash``. And PreToolUse rejects ``ask`` as unsupported, so a write to a file under an
incident is denied, with a reason telling the agent to ask the engineer first. Context goes out
as ``additionalContext`` at SessionStart, UserPromptSubmit and (mid-turn) PostToolUse.
"""

from __future__ import annotations

from functools import partial

from oncall_tui.agents.hook.model import (
    Adapter,
    Event,
    HookAnswer,
    HookInput,
    ToolNames,
    json_text,
    named_event_input,
)

AGENT = "codex"
PRE_TOOL_USE = "PreToolUse"
EVENTS = {
    "SessionStart": Event.SESSION_START,
    "UserPromptSubmit": Event.PROMPT,
    PRE_TOOL_USE: Event.PRE_TOOL,
    "PostToolUse": Event.POST_TOOL,
}
TOOLS = ToolNames(
    patch=frozenset({"apply_patch"}), shell=frozenset({"Bash", "shell", "exec_command"})
)
ASK_FIRST = (
    " Codex cannot ask the engineer from a hook, so this call is denied: stop, tell the on-call"
    " engineer what you want to change and why, and go ahead only with their agreement."
)

parse = partial(
    named_event_input,
    agent=AGENT,
    events=EVENTS,
    tools=TOOLS,
    tool_events=frozenset({PRE_TOOL_USE, "PostToolUse"}),
)


def render(hook: HookInput, answer: HookAnswer) -> str:
    if hook.event is Event.PRE_TOOL:
        if answer.guard is None:
            return ""
        output: dict[str, str] = {
            "hookEventName": PRE_TOOL_USE,
            "permissionDecision": "deny",
            "permissionDecisionReason": answer.guard + ASK_FIRST,
        }
    elif answer.context:
        output = {"hookEventName": hook.native_event, "additionalContext": answer.context}
    else:
        return ""
    return json_text({"hookSpecificOutput": output})


ADAPTER = Adapter(agent=AGENT, parse=parse, render=render)
