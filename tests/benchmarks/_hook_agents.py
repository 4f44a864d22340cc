"""Each adapter's hook payloads for the hook benchmark: the same moments of a working session
(a prompt with nothing new, an edit under an incident, an edit elsewhere, a shell write under an
incident), in each agent's own format, against the same DB and checkout as the Claude Code hook;
and the moments that write: a session start and the end of a shell call that committed.
Cursor and Copilot print no context on prompts, so their "prompt" is the end of a turn (``stop``,
``agentStop``), where their news goes out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

GUARDED = "services/processor/retry.py"
ELSEWHERE = "docs/notes.md"
SHELL_WRITE = f"sed -i 's/3/5/' {GUARDED}"
COMMIT_COMMAND = "git commit -q --allow-empty -m 'Retry less'"
STEADY = ("prompt, nothing new", "edit under an incident", "edit elsewhere", "shell write")


def session_start(agent: str, session: str, repo: Path) -> dict[str, Any]:
    return _payloads(agent, session, repo)["start"]


def commit_done(agent: str, session: str, repo: Path) -> dict[str, Any]:
    """The after-shell event of a call that ran :data:`COMMIT_COMMAND` (the caller commits)."""
    return _payloads(agent, session, repo)["commit"]


def steady_payloads(agent: str, session: str, repo: Path) -> dict[str, dict[str, Any]]:
    """The steady-state moments, by the names of :data:`STEADY`."""
    found = _payloads(agent, session, repo)
    return dict(
        zip(STEADY, (found[k] for k in ("prompt", "guarded", "elsewhere", "shell")), strict=True)
    )


def _payloads(agent: str, session: str, repo: Path) -> dict[str, dict[str, Any]]:
    cwd = str(repo)
    if agent in ("claude-code", "codex", "gemini"):
        base: dict[str, Any] = {"session_id": session, "cwd": cwd}
        prompt_event = "BeforeAgent" if agent == "gemini" else "UserPromptSubmit"
        tool_event = "BeforeTool" if agent == "gemini" else "PreToolUse"
        edit_tool = {"claude-code": "Edit", "codex": "apply_patch", "gemini": "replace"}[agent]
        shell_tool = "run_shell_command" if agent == "gemini" else "Bash"

        def edit(path: str) -> dict[str, Any]:
            if agent == "codex":
                patch = f"*** Begin Patch\n*** Update File: {path}\n@@\n-a\n+b\n*** End Patch\n"
                tool_input: dict[str, Any] = {"command": patch}
            else:
                tool_input = {"file_path": str(repo / path), "old_string": "a", "new_string": "b"}
            return base | {
                "hook_event_name": tool_event,
                "tool_name": edit_tool,
                "tool_input": tool_input,
            }

        return {
            "start": base | {"hook_event_name": "SessionStart", "source": "startup"},
            "prompt": base | {"hook_event_name": prompt_event, "prompt": "p"},
            "guarded": edit(GUARDED),
            "elsewhere": edit(ELSEWHERE),
            "shell": base
            | {
                "hook_event_name": tool_event,
                "tool_name": shell_tool,
                "tool_input": {"command": SHELL_WRITE},
            },
            "commit": base
            | {
                "hook_event_name": "AfterTool" if agent == "gemini" else "PostToolUse",
                "tool_name": shell_tool,
                "tool_input": {"command": COMMIT_COMMAND},
                "tool_response": "[main 1a2b3c4] Retry less",
            },
        }
    if agent == "cursor":
        base = {"conversation_id": session, "workspace_roots": [cwd]}

        def write(path: str) -> dict[str, Any]:
            tool_input = {"file_path": str(repo / path), "contents": "x"}
            return base | {
                "hook_event_name": "preToolUse",
                "tool_name": "Write",
                "tool_input": tool_input,
            }

        return {
            "start": base | {"hook_event_name": "sessionStart", "session_id": session},
            "prompt": base | {"hook_event_name": "stop", "status": "completed", "loop_count": 0},
            "guarded": write(GUARDED),
            "elsewhere": write(ELSEWHERE),
            "shell": base
            | {"hook_event_name": "beforeShellExecution", "command": SHELL_WRITE, "cwd": cwd},
            "commit": base
            | {
                "hook_event_name": "afterShellExecution",
                "command": COMMIT_COMMAND,
                "output": "",
                "duration": 120,
                "cwd": cwd,
            },
        }
    base = {"sessionId": session, "timestamp": 1_764_666_900_000, "cwd": cwd}

    def create(path: str) -> dict[str, Any]:
        return base | {"toolName": "edit", "toolArgs": {"path": str(repo / path), "old_str": "a"}}

    return {
        "start": base | {"source": "new"},
        "prompt": base | {"stopReason": "end_turn", "transcriptPath": "/tmp/t.jsonl"},
        "guarded": create(GUARDED),
        "elsewhere": create(ELSEWHERE),
        "shell": base | {"toolName": "bash", "toolArgs": {"command": SHELL_WRITE}},
        "commit": base
        | {
            "toolName": "bash",
            "toolArgs": {"command": COMMIT_COMMAND},
            "toolResult": {"resultType": "success", "textResultForLlm": "[main 1a2b3c4]"},
        },
    }
