"""Our hook entries merged into each agent's configuration: the user's hooks and settings kept,
ours replaced where they stand, and a second merge changing nothing.

The existing documents are shaped as each agent's docs show their configuration:
- Claude Code settings.json hooks: https://code.claude.com/docs/en/hooks
- Codex hooks.json: https://developers.openai.com/codex/hooks
- Cursor hooks.json (``version`` 1, flat ``command`` entries): https://cursor.com/docs/agent/hooks
- Gemini CLI settings.json hooks: https://geminicli.com/docs/hooks/reference
- Copilot ``.github/hooks/*.json`` (``type``/``bash`` entries):
  https://docs.github.com/en/copilot/reference/hooks-reference
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.agents.install.merge import (
    ConfigShapeError,
    hook_agent,
    hook_command,
    inspect,
    merge,
)
from oncall_tui.agents.install.spec import SPECS, Scope, config_path

EXE = "/opt/venv/bin/oncall-tui"


def command(agent: str, db: str | None = None) -> str:
    return hook_command(EXE, agent, db)


USER_CLAUDE_SETTINGS: dict[str, Any] = {
    "model": "opus",
    "permissions": {"allow": ["Bash(npm run lint)"]},
    "hooks": {
        "PreToolUse": [
            {
                "matcher": "Bash",
                "hooks": [{"type": "command", "command": "~/.claude/validate-bash.sh"}],
            }
        ],
        "Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}],
    },
}


def test_claude_code_keeps_the_users_hooks_and_settings() -> None:
    merged = merge(SPECS["claude-code"], USER_CLAUDE_SETTINGS, command("claude-code"))

    assert merged["model"] == "opus"
    assert merged["permissions"] == {"allow": ["Bash(npm run lint)"]}
    assert merged["hooks"]["Stop"] == USER_CLAUDE_SETTINGS["hooks"]["Stop"]
    assert merged["hooks"]["PreToolUse"] == [
        USER_CLAUDE_SETTINGS["hooks"]["PreToolUse"][0],
        {
            "matcher": "Edit|Write|MultiEdit|NotebookEdit|Bash",
            "hooks": [{"type": "command", "command": command("claude-code")}],
        },
    ]
    assert merged["hooks"]["SessionStart"] == [
        {"hooks": [{"type": "command", "command": command("claude-code")}]}
    ]
    assert list(merged["hooks"]) == [
        "PreToolUse",
        "Stop",
        "SessionStart",
        "UserPromptSubmit",
        "PostToolUse",
        "PostToolBatch",
    ]


def test_the_input_document_is_not_modified() -> None:
    before = copy.deepcopy(USER_CLAUDE_SETTINGS)
    merge(SPECS["claude-code"], USER_CLAUDE_SETTINGS, command("claude-code"))
    assert before == USER_CLAUDE_SETTINGS


@pytest.mark.parametrize("agent", list(SPECS))
def test_a_second_merge_changes_nothing_and_everything_is_wired(agent: str) -> None:
    spec = SPECS[agent]
    once = merge(spec, {}, command(agent))
    assert merge(spec, once, command(agent)) == once
    wired = inspect(spec, once)
    assert (wired.present, wired.missing, wired.commands) == (spec.events, (), (command(agent),))


def test_an_older_entry_of_ours_is_replaced_where_it_stands() -> None:
    old = "oncall-tui hook claude-code"  # the README snippet, before `hooks install` existed
    settings = {
        "hooks": {
            "UserPromptSubmit": [
                {"hooks": [{"type": "command", "command": "date"}]},
                {"hooks": [{"type": "command", "command": old}]},
                {"hooks": [{"type": "command", "command": "uptime"}]},
            ],
            # An event we no longer wire: our entry goes, the list with it.
            "Notification": [{"hooks": [{"type": "command", "command": old}]}],
        }
    }
    new = command("claude-code", "/data/oncall.db")

    merged = merge(SPECS["claude-code"], settings, new)

    assert [g["hooks"][0]["command"] for g in merged["hooks"]["UserPromptSubmit"]] == [
        "date",
        new,
        "uptime",
    ]
    assert "Notification" not in merged["hooks"]


def test_a_users_group_sharing_our_handler_keeps_its_own() -> None:
    settings = {
        "hooks": {
            "SessionStart": [
                {
                    "matcher": "startup",
                    "hooks": [
                        {
                            "type": "command",
                            "command": "/usr/local/bin/oncall-tui hook claude-code",
                        },
                        {"type": "command", "command": "git fetch -q", "timeout": 5},
                    ],
                }
            ]
        }
    }

    merged = merge(SPECS["claude-code"], settings, command("claude-code"))
    again = merge(SPECS["claude-code"], merged, command("claude-code"))

    assert merged["hooks"]["SessionStart"] == [
        {"hooks": [{"type": "command", "command": command("claude-code")}]},
        {
            "matcher": "startup",
            "hooks": [{"type": "command", "command": "git fetch -q", "timeout": 5}],
        },
    ]
    assert again == merged


def test_cursor_gets_version_1_and_flat_entries_next_to_the_users() -> None:
    hooks_json = {
        "hooks": {
            "afterFileEdit": [{"command": "./hooks/format.sh"}],
            "beforeShellExecution": [{"command": "./hooks/audit.sh", "timeout": 10}],
        }
    }

    merged = merge(SPECS["cursor"], hooks_json, command("cursor"))

    assert list(merged) == ["version", "hooks"]
    assert merged["version"] == 1
    assert merged["hooks"]["afterFileEdit"] == [
        {"command": "./hooks/format.sh"},
        {"command": command("cursor")},
    ]
    assert merged["hooks"]["beforeShellExecution"] == [
        {"command": "./hooks/audit.sh", "timeout": 10},
        {"command": command("cursor")},
    ]
    assert merged["hooks"]["preToolUse"] == [
        {"command": command("cursor"), "matcher": "Write|Edit|StrReplace|Delete"}
    ]


def test_copilot_entries_run_through_bash_and_keep_a_users_powershell_hook() -> None:
    hooks_json: dict[str, Any] = {
        "version": 1,
        "hooks": {
            "preToolUse": [
                {
                    "type": "command",
                    "bash": "./scripts/audit.sh",
                    "powershell": "./scripts/audit.ps1",
                }
            ]
        },
    }

    merged = merge(SPECS["copilot"], hooks_json, command("copilot"))

    assert merged["hooks"]["preToolUse"] == [
        hooks_json["hooks"]["preToolUse"][0],
        {"type": "command", "bash": command("copilot")},
    ]
    assert merged["hooks"]["notification"] == [
        {"type": "command", "bash": command("copilot"), "matcher": "agent_idle"}
    ]


def test_gemini_keeps_non_event_keys_under_hooks() -> None:
    settings: dict[str, Any] = {
        "hooksConfig": {"enabled": True},
        "hooks": {
            "BeforeTool": [
                {
                    "matcher": "write_file|replace",
                    "hooks": [{"name": "secret-scan", "type": "command", "command": "./scan.sh"}],
                }
            ],
            "disabled": ["secret-scan"],
        },
    }

    merged = merge(SPECS["gemini"], settings, command("gemini"))

    assert merged["hooksConfig"] == {"enabled": True}
    assert merged["hooks"]["disabled"] == ["secret-scan"]
    assert merged["hooks"]["BeforeTool"][0] == settings["hooks"]["BeforeTool"][0]
    assert merged["hooks"]["BeforeTool"][1]["matcher"] == "write_file|replace|run_shell_command"


@pytest.mark.parametrize(
    "document",
    [{"hooks": []}, {"hooks": {"SessionStart": {"hooks": []}}}],
    ids=["hooks not an object", "event not a list"],
)
def test_a_document_not_shaped_as_the_agent_reads_it_is_refused(document: dict[str, Any]) -> None:
    with pytest.raises(ConfigShapeError):
        merge(SPECS["claude-code"], document, command("claude-code"))


def test_status_reports_missing_events_and_ignores_other_agents_commands() -> None:
    settings = {
        "hooks": {
            "SessionStart": [{"hooks": [{"type": "command", "command": command("claude-code")}]}],
            "UserPromptSubmit": [{"hooks": [{"type": "command", "command": command("codex")}]}],
        }
    }

    wired = inspect(SPECS["claude-code"], settings)

    assert wired.present == ("SessionStart",)
    assert wired.missing == ("UserPromptSubmit", "PreToolUse", "PostToolUse", "PostToolBatch")
    assert not wired.complete


@pytest.mark.parametrize(
    ("text", "agent"),
    [
        ("oncall-tui hook claude-code", "claude-code"),
        ("/opt/venv/bin/oncall-tui --db /data/oncall.db hook codex", "codex"),
        ("'/Users/me/my tools/oncall-tui' --db '/a b.db' hook gemini", "gemini"),
        ("oncall-tui hooks status", None),
        ("echo oncall-tui", None),
        ("my-oncall-tui hook x", None),
        ("oncall-tui hook 'unterminated", None),
    ],
)
def test_our_commands_are_recognised_whatever_the_path(text: str, agent: str | None) -> None:
    assert hook_agent(text) == agent


def test_the_command_is_quoted_for_the_shell() -> None:
    assert hook_command("/my tools/oncall-tui", "cursor", "/a b.db") == (
        "'/my tools/oncall-tui' --db '/a b.db' hook cursor"
    )


def test_file_locations_per_scope_and_the_agents_home_variables() -> None:
    home, project = Path("/home/me"), Path("/src/app")

    def where(agent: str, scope: Scope, env: dict[str, str] | None = None) -> Path:
        return config_path(SPECS[agent], scope, home=home, project_dir=project, env=env or {})

    assert where("claude-code", Scope.USER) == home / ".claude/settings.json"
    assert where("claude-code", Scope.PROJECT) == project / ".claude/settings.json"
    assert where("codex", Scope.USER) == home / ".codex/hooks.json"
    assert where("codex", Scope.USER, {"CODEX_HOME": "/etc/cx"}) == Path("/etc/cx/hooks.json")
    assert where("cursor", Scope.PROJECT) == project / ".cursor/hooks.json"
    assert where("gemini", Scope.USER) == home / ".gemini/settings.json"
    assert where("copilot", Scope.PROJECT) == project / ".github/hooks/oncall-tui.json"
    assert where("copilot", Scope.USER) == home / ".copilot/hooks/oncall-tui.json"
    assert where("copilot", Scope.USER, {"COPILOT_HOME": "/c"}) == Path("/c/hooks/oncall-tui.json")
