"""Which module answers ``oncall-tui hook AGENT``, imported only for the agent asked.

Each adapter is small and standard library only; importing just the one named keeps every
hook call as fast as the Claude Code one.
"""

from __future__ import annotations

from importlib import import_module

from oncall_tui.agents.hook.model import Adapter

MODULES = {
    "claude-code": "oncall_tui.agents.hook.claude_code",
    "codex": "oncall_tui.agents.hook.codex",
    "cursor": "oncall_tui.agents.hook.cursor",
    "gemini": "oncall_tui.agents.hook.gemini",
    "copilot": "oncall_tui.agents.hook.copilot",
}
"""The stable command names, in the order the help lists them."""


def adapter(name: str) -> Adapter:
    """The adapter of ``name`` (one of :data:`MODULES`)."""
    found: Adapter = import_module(MODULES[name]).ADAPTER
    return found
