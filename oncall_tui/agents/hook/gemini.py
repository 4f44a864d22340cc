"""``oncall-tui hook gemini``: Gemini CLI's hook JSON in, its output format out.

Gemini CLI wants the JSON alone on stdout. Context goes out as ``additionalContext`` at
SessionStart, BeforeAgent (with the prompt) and, mid-turn, AfterTool (with the tool result).
BeforeTool has no "ask": a write to a file under an incident (``write_file``, ``replace``, a
shell write through ``run_shell_command``) is denied, with a reason telling the agent to ask the
engineer first; the reason is sent to the agent.
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

AGENT = "gemini"
EVENTS = {
    "SessionStart": Event.SESSION_START,
    "BeforeAgent": Event.PROMPT,
    "BeforeTool": Event.PRE_TOOL,
    "AfterTool": Event.POST_TOOL,
}
TOOLS = ToolNames(edit=frozenset({"write_file", "replace"}), shell=frozenset({"run_shell_command"}))
ASK_FIRST = (
    " Stop and ask the on-call engineer whether to make this change; go ahead only with their"
    " agreement."
)

parse = partial(
    named_event_input,
    agent=AGENT,
    events=EVENTS,
    tools=TOOLS,
    tool_events=frozenset({"BeforeTool", "AfterTool"}),
)


def render(hook: HookInput, answer: HookAnswer) -> str:
    if hook.event is Event.PRE_TOOL:
        if answer.guard is None:
            return ""
        return json_text({"decision": "deny", "reason": answer.guard + ASK_FIRST})
    if not answer.context:
        return ""
    output = {"hookEventName": hook.native_event, "additionalContext": answer.context}
    return json_text({"hookSpecificOutput": output})


ADAPTER = Adapter(agent=AGENT, parse=parse, render=render)
