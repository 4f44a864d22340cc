"""What every agent's hook comes down to: a moment in a session, and what we answer to it.

Each agent's adapter turns its own hook JSON into a :class:`HookInput` and renders a
:class:`HookAnswer` in its own output format; the decision between the two is shared
(:mod:`~oncall_tui.agents.hook.core`). Standard library only: every hook call starts here.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from enum import StrEnum

from oncall_tui.agents.repo import tool_paths
from oncall_tui.core.frozen import Frozen

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Any, Final


class Event(StrEnum):
    """The moments of a session the decision tells apart."""

    SESSION_START = "session_start"
    """Register the session; the whole current context when it is concerned."""
    PROMPT = "prompt"
    POST_TOOL = "post_tool"
    """Mid-turn: what became live since the session last heard from us."""
    STOP = "stop"
    """The turn ends: news may continue it."""
    PRE_TOOL = "pre_tool"
    """A tool is about to run: is it a write to a file under an incident?"""


class ActionKind(StrEnum):
    EDIT = "edit"
    """A file tool: the paths it names are written."""
    SHELL = "shell"
    """A shell command: the files it writes are found by parsing it."""
    PATCH = "patch"
    """A patch (Codex ``apply_patch``): the files it names are written."""
    OTHER = "other"
    """Anything else (a read, a search): the paths it names are recorded, never guarded."""


class Action(Frozen):
    """A tool call, reduced to what the guard needs."""

    __slots__ = ("kind", "paths", "text")

    def __init__(self, kind: ActionKind, paths: tuple[str, ...] = (), text: str = "") -> None:
        self.kind: Final = kind
        self.paths: Final = paths
        """As the agent named them (absolute, or relative to the session's cwd)."""
        self.text: Final = text
        """The shell command or the patch text."""

    @property
    def guarded(self) -> bool:
        return self.kind is not ActionKind.OTHER


NO_ACTION = Action(ActionKind.OTHER)


class HookInput(Frozen):
    """One hook call of any agent, normalised."""

    __slots__ = ("agent", "event", "session_id", "cwd", "action", "native_event", "hears")

    def __init__(
        self,
        agent: str,
        event: Event,
        session_id: str,
        cwd: str,
        action: Action = NO_ACTION,
        native_event: str = "",
        hears: bool = True,
    ) -> None:
        self.agent: Final = agent
        """An ``AgentKind`` value (the enum itself needs pydantic, too slow to import here)."""
        self.event: Final = event
        self.session_id: Final = session_id
        self.cwd: Final = cwd
        self.action: Final = action
        self.native_event: Final = native_event
        """The agent's own name for the event, for the adapter's output."""
        self.hears: Final = hears
        """Whether what this event prints reaches the model; when not, nothing is delivered (and
        so nothing is recorded as heard): the news waits for an event that does carry it."""


class HookAnswer(Frozen):
    """What the decision says: context to add, and/or why a tool call needs the engineer."""

    __slots__ = ("context", "guard")

    def __init__(self, context: str = "", guard: str | None = None) -> None:
        self.context: Final = context
        self.guard: Final = guard


NOTHING = HookAnswer()


class Adapter(Frozen):
    """One agent's hook format."""

    __slots__ = ("agent", "parse", "render")

    def __init__(
        self,
        agent: str,
        parse: Callable[[str], HookInput | None],
        render: Callable[[HookInput, HookAnswer], str],
    ) -> None:
        self.agent: Final = agent
        self.parse: Final = parse
        """The agent's hook JSON, or None for anything not handled (which then prints nothing)."""
        self.render: Final = render
        """The answer in the agent's output format; empty when there is nothing to say."""


def load_object(text: str) -> dict[str, Any] | None:
    """The JSON object on stdin, or None when it is not one."""
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def text_field(data: Mapping[str, Any], *keys: str) -> str:
    """The first of ``keys`` holding a non-empty string, else ""."""
    for key in keys:
        value = data.get(key)
        if isinstance(value, str) and value:
            return value
    return ""


def cwd_or_here(cwd: str) -> str:
    """Agents start hooks in the project directory, so that is the fallback."""
    return cwd or os.getcwd()


def mapping(value: object) -> Mapping[str, Any]:
    """A tool's arguments as a mapping: some agents send them as a JSON string."""
    if isinstance(value, str):
        value = load_object(value)
    return value if isinstance(value, Mapping) else {}


def shell_text(value: object) -> str:
    """A shell command given as a string or as an argv list."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, str) for part in value):
        import shlex  # an argv list: few agents send one

        return shlex.join(value)
    return ""


def file_action(tool_input: Mapping[str, Any], kind: ActionKind = ActionKind.EDIT) -> Action:
    return Action(kind, tuple(tool_paths(tool_input)))


def shell_action(command: object) -> Action:
    return Action(ActionKind.SHELL, text=shell_text(command))


def json_text(value: object) -> str:
    """Compact where it does not matter, UTF-8 kept so that names read as they are."""
    return json.dumps(value, ensure_ascii=False)


class ToolNames(Frozen):
    """Which of an agent's tools write files, and how the files are named."""

    __slots__ = ("edit", "shell", "patch")

    def __init__(
        self,
        edit: frozenset[str] = frozenset(),
        shell: frozenset[str] = frozenset(),
        patch: frozenset[str] = frozenset(),
    ) -> None:
        self.edit: Final = edit
        """File tools: the paths in their arguments are written."""
        self.shell: Final = shell
        """Shell tools: ``command`` holds the command line."""
        self.patch: Final = patch
        """Patch tools: the patch text (``command``, ``input`` or ``patch``) names the files."""

    def action(self, data: Mapping[str, Any]) -> Action:
        """The tool call of a hook JSON that carries ``tool_name`` and ``tool_input``."""
        tool_name, tool_input = text_field(data, "tool_name"), mapping(data.get("tool_input"))
        if tool_name in self.patch:
            return Action(
                ActionKind.PATCH, text=text_field(tool_input, "command", "input", "patch")
            )
        if tool_name in self.edit:
            return file_action(tool_input)
        if tool_name in self.shell:
            return shell_action(tool_input.get("command"))
        return file_action(tool_input, ActionKind.OTHER)


def named_event_input(
    text: str,
    agent: str,
    events: Mapping[str, Event],
    tools: ToolNames,
    *,
    tool_events: frozenset[str],
) -> HookInput | None:
    """The hook JSON of agents that follow Claude Code's wire format (``hook_event_name``,
    ``session_id``, ``cwd``, ``tool_name``, ``tool_input``), or None when not handled.

    ``tool_events`` names the events whose tool call matters. The session id is checked against
    the stored sessions (whose ids were validated when they were registered) or by the session
    actions, never trusted as is.
    """
    data = load_object(text)
    if data is None:
        return None
    name, session_id = data.get("hook_event_name"), text_field(data, "session_id")
    if not isinstance(name, str) or name not in events or not session_id:
        return None
    return HookInput(
        agent=agent,
        event=events[name],
        session_id=session_id,
        cwd=cwd_or_here(text_field(data, "cwd")),
        action=tools.action(data) if name in tool_events else NO_ACTION,
        native_event=name,
    )
