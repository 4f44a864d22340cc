"""``oncall-tui hook claude-code``: Claude Code's hook JSON in, its output format out.

SessionStart and UserPromptSubmit print Markdown, which Claude Code adds to the model's context
on exit 0 (plain stdout rather than ``additionalContext``, which some clients drop). PostToolUse
and PostToolBatch reach the model mid-turn only through ``additionalContext`` next to the tool
result, so news arriving during a long autonomous turn goes there, once. PreToolUse answers
``ask`` for an edit or a shell write of a file under an incident; the reason of an ``ask``
reaches only the user, so ``additionalContext`` tells the model the same.
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

AGENT = "claude-code"
SESSION_START = "SessionStart"
USER_PROMPT_SUBMIT = "UserPromptSubmit"
PRE_TOOL_USE = "PreToolUse"
POST_TOOL_USE = "PostToolUse"
POST_TOOL_BATCH = "PostToolBatch"
EVENTS = {
    SESSION_START: Event.SESSION_START,
    USER_PROMPT_SUBMIT: Event.PROMPT,
    PRE_TOOL_USE: Event.PRE_TOOL,
    POST_TOOL_USE: Event.POST_TOOL,
    POST_TOOL_BATCH: Event.POST_TOOL,
}
TOOLS = ToolNames(
    edit=frozenset({"Edit", "Write", "MultiEdit", "NotebookEdit"}), shell=frozenset({"Bash"})
)
ASKED_FOR_THE_MODEL = (
    "oncall-tui asked the engineer before this tool call, because of a production incident: "
)

# After a tool ran, what it wrote tells whether the engineer said yes to an ask before it.
parse = partial(
    named_event_input,
    agent=AGENT,
    events=EVENTS,
    tools=TOOLS,
    tool_events=frozenset({PRE_TOOL_USE, POST_TOOL_USE}),
)


def render(hook: HookInput, answer: HookAnswer) -> str:
    if hook.event is Event.PRE_TOOL:
        if answer.guard is None:
            return ""
        output = {
            "hookEventName": PRE_TOOL_USE,
            "permissionDecision": "ask",
            "permissionDecisionReason": answer.guard,
            "additionalContext": ASKED_FOR_THE_MODEL + answer.guard,
        }
        return json_text({"hookSpecificOutput": output})
    if not answer.context:
        return ""
    if hook.event is Event.POST_TOOL:
        output = {"hookEventName": hook.native_event, "additionalContext": answer.context}
        return json_text({"hookSpecificOutput": output})
    return answer.context


ADAPTER = Adapter(agent=AGENT, parse=parse, render=render)
