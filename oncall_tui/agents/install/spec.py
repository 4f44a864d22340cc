"""What each agent's hook configuration must contain, and where each agent reads it from.

The events and matchers are those the README documents per agent (section "Tell the agents");
the file locations are each agent's own documented ones:

- Claude Code: ``~/.claude/settings.json`` and ``<project>/.claude/settings.json``
  (https://code.claude.com/docs/en/hooks).
- Codex: ``hooks.json`` in ``$CODEX_HOME`` (default ``~/.codex``) or ``<project>/.codex``
  (https://developers.openai.com/codex/hooks). Codex also reads inline ``[hooks]`` tables in
  ``config.toml``, but its docs advise one form per layer and say hooks are on by default
  (``[features] hooks = false`` turns them off), so ``hooks.json`` is written and
  ``config.toml`` only read, to warn when it turns hooks off.
- Cursor: ``~/.cursor/hooks.json`` and ``<project>/.cursor/hooks.json``
  (https://cursor.com/docs/agent/hooks).
- Gemini CLI: ``~/.gemini/settings.json`` and ``<project>/.gemini/settings.json``
  (https://geminicli.com/docs/hooks/reference).
- Copilot CLI: any ``*.json`` in ``<project>/.github/hooks/`` (also what the coding agent reads,
  from the default branch) or in ``$COPILOT_HOME/hooks`` (default ``~/.copilot/hooks``)
  (https://docs.github.com/en/copilot/reference/hooks-reference).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path


class Layout(StrEnum):
    """How an agent's file nests an event's commands."""

    GROUPED = "grouped"
    """``{"hooks": {EVENT: [{"matcher": M, "hooks": [{"type": "command", "command": C}]}]}}``
    (Claude Code, Codex, Gemini CLI)."""
    CURSOR = "cursor"
    """``{"version": 1, "hooks": {EVENT: [{"command": C, "matcher": M}]}}``."""
    COPILOT = "copilot"
    """``{"version": 1, "hooks": {EVENT: [{"type": "command", "bash": C, "matcher": M}]}}``."""


class Scope(StrEnum):
    USER = "user"
    """Every session of this user on this machine."""
    PROJECT = "project"
    """Sessions in one checkout (the file may be committed and shared)."""


@dataclass(frozen=True)
class Wiring:
    """One event to hook, and the tools it is limited to (``None``: every occurrence)."""

    event: str
    matcher: str | None = None


@dataclass(frozen=True)
class AgentHooks:
    """Everything the installer knows about one agent."""

    agent: str
    """The ``oncall-tui hook AGENT`` name."""
    title: str
    layout: Layout
    wiring: tuple[Wiring, ...]
    project_file: tuple[str, ...]
    """Path parts under the project directory."""
    user_file: tuple[str, ...]
    """Path parts under the user's home directory (or under ``home_env`` when it is set)."""
    home_env: str | None = None
    """An environment variable that moves the agent's user directory (its value replaces the
    first part of ``user_file``)."""

    @property
    def events(self) -> tuple[str, ...]:
        return tuple(w.event for w in self.wiring)


SPECS: dict[str, AgentHooks] = {
    spec.agent: spec
    for spec in (
        AgentHooks(
            "claude-code",
            "Claude Code",
            Layout.GROUPED,
            (
                Wiring("SessionStart"),
                Wiring("UserPromptSubmit"),
                Wiring("PreToolUse", "Edit|Write|MultiEdit|NotebookEdit|Bash"),
                Wiring("PostToolUse"),
                Wiring("PostToolBatch"),
            ),
            project_file=(".claude", "settings.json"),
            user_file=(".claude", "settings.json"),
        ),
        AgentHooks(
            "codex",
            "Codex CLI",
            Layout.GROUPED,
            (
                Wiring("SessionStart"),
                Wiring("UserPromptSubmit"),
                Wiring("PreToolUse", "Bash|apply_patch"),
                Wiring("PostToolUse"),
            ),
            project_file=(".codex", "hooks.json"),
            user_file=(".codex", "hooks.json"),
            home_env="CODEX_HOME",
        ),
        AgentHooks(
            "cursor",
            "Cursor",
            Layout.CURSOR,
            (
                Wiring("sessionStart"),
                Wiring("beforeSubmitPrompt"),
                Wiring("preToolUse", "Write|Edit|StrReplace|Delete"),
                Wiring("beforeShellExecution"),
                # What ran after an ask: the engineer said yes (journaled as allowed-after-ask).
                Wiring("afterFileEdit"),
                Wiring("afterShellExecution"),
                Wiring("stop"),
            ),
            project_file=(".cursor", "hooks.json"),
            user_file=(".cursor", "hooks.json"),
        ),
        AgentHooks(
            "gemini",
            "Gemini CLI",
            Layout.GROUPED,
            (
                Wiring("SessionStart"),
                Wiring("BeforeAgent"),
                Wiring("BeforeTool", "write_file|replace|run_shell_command"),
                Wiring("AfterTool"),
            ),
            project_file=(".gemini", "settings.json"),
            user_file=(".gemini", "settings.json"),
        ),
        AgentHooks(
            "copilot",
            "Copilot CLI",
            Layout.COPILOT,
            (
                Wiring("sessionStart"),
                Wiring("userPromptSubmitted"),
                Wiring("preToolUse"),
                Wiring("agentStop"),
                Wiring("notification", "agent_idle"),
            ),
            project_file=(".github", "hooks", "oncall-tui.json"),
            user_file=(".copilot", "hooks", "oncall-tui.json"),
            home_env="COPILOT_HOME",
        ),
    )
}
"""In the order the help and the status list them (the hook adapters' order)."""


def config_path(
    spec: AgentHooks, scope: Scope, *, home: Path, project_dir: Path, env: Mapping[str, str]
) -> Path:
    """The file ``spec``'s agent reads its ``scope`` hooks from."""
    if scope is Scope.PROJECT:
        return project_dir.joinpath(*spec.project_file)
    moved = env.get(spec.home_env) if spec.home_env else None
    if moved:
        return Path(moved).joinpath(*spec.user_file[1:])
    return home.joinpath(*spec.user_file)
