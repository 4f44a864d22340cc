"""From a real-format alert over HTTP to what agents read: files, hook output and MCP.

One story, through every decision an engineer makes: approve, edit (in $EDITOR), reject,
broadcast, supersede, resolve and the stand-down. Every step goes through the public entry
points (HTTP, the CLI, the hook command, the real MCP client) against one DB on disk.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import anyio
import pytest
from click.testing import CliRunner
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from oncall_tui.cli import cli
from oncall_tui.config import ExportSettings, PolicySettings, Settings
from oncall_tui.core.clock import SystemClock
from oncall_tui.server.runner import ReceiverThread
from tests.support.receiver_http import post_webhook, request
from tests.support.samples import SAMPLES

REPO_SLUG = "acme-payments/payments-api"


class World:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.settings = Settings(
            db=tmp / "oncall.db",
            export=ExportSettings(dir=tmp / "context"),
            policy=PolicySettings(mode="approve", auto_approve=["stand-down"]),
        )
        config = tmp / "config.toml"
        config.write_text(
            f'db = "{self.settings.db}"\n[export]\ndir = "{tmp / "context"}"\n'
            '[policy]\nmode = "approve"\nauto_approve = ["stand-down"]\n'
        )
        self.config = config
        self.env = {**os.environ, "ONCALL_TUI_CONFIG": str(config), "ONCALL_TUI_USER": "alice"}
        self.repo = self._git_repo()

    def _git_repo(self) -> Path:
        repo = self.tmp / "payments-api"
        (repo / "services" / "processor").mkdir(parents=True)
        (repo / "services" / "processor" / "retry.py").write_text("TIMEOUT_S = 2\n")
        for args in (
            ["init", "-q", "-b", "feat/retry-budget"],
            ["remote", "add", "origin", f"git@github.com:{REPO_SLUG}.git"],
        ):
            subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)
        return repo

    def cli(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = CliRunner().invoke(
            cli, ["--config", str(self.config), *args], env=env, catch_exceptions=False
        )
        assert result.exit_code == 0, result.output
        return result.output

    def hook(self, event: str, session_id: str, **fields: Any) -> str:
        payload = {
            "session_id": session_id,
            "cwd": str(self.repo),
            "hook_event_name": event,
            **fields,
        }
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "oncall_tui",
                "--config",
                str(self.config),
                "hook",
                "claude-code",
            ],
            input=json.dumps(payload).encode(),
            capture_output=True,
            env=self.env,
            timeout=30,
            check=False,
        )
        assert done.returncode == 0
        return done.stdout.decode()

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.settings.db, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def pending(self, session_id: str) -> str:
        found = self.rows(
            "SELECT id FROM pushes WHERE session_id = ? AND state = 'pending' ORDER BY number DESC",
            (session_id,),
        )
        assert found, f"no pending push for {session_id}"
        return str(found[0][0])

    def context_file(self, session_id: str) -> str:
        return (self.tmp / "context" / "sessions" / session_id / "CONTEXT.md").read_text()


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield World(tmp_path)


def post(port: int, source: str, path: Path) -> None:
    """Deliver, then wait (as /healthz tells) until the receiver has folded it into incidents."""
    reply = post_webhook(port, source, path.read_bytes(), timeout_s=10)
    assert reply.status == 202, reply.body
    deadline = time.monotonic() + 20
    while request(port, "GET", "/healthz", timeout_s=10).json["received"]:
        assert time.monotonic() < deadline, "the receiver did not fold the delivery"
        time.sleep(0.01)


async def mcp_call(world: World, session_id: str, tool: str, **arguments: Any) -> str:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oncall_tui", "--config", str(world.config), "mcp", "--session", session_id],
        env={"ONCALL_TUI_CONFIG": str(world.config), "XDG_CONFIG_HOME": str(world.tmp)},
    )
    with anyio.fail_after(30):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool(tool, arguments)
            assert not result.is_error, result.content
            return "".join(getattr(c, "text", "") for c in result.content)


async def test_alert_to_agents_and_back(world: World) -> None:
    world.cli("catalog", "load", str(SAMPLES / "catalog.yaml"))
    receiver = ReceiverThread(world.settings, SystemClock())
    port = receiver.start()
    try:
        # Sessions: one through the Claude Code hook, two registered by the CLI.
        world.hook("SessionStart", "s-processor", source="startup")
        world.hook(
            "PreToolUse",
            "s-processor",
            tool_name="Edit",
            tool_input={"file_path": str(world.repo / "services/processor/retry.py")},
        )
        world.cli(
            "sessions",
            "register",
            "s-ledger",
            "--agent",
            "codex",
            "--repo",
            REPO_SLUG,
            "--path",
            "services/ledger/postings.py",
        )
        world.cli(
            "sessions",
            "register",
            "s-checkout",
            "--agent",
            "cursor",
            "--repo",
            "acme/checkout",
            "--path",
            "web/checkout/pay.tsx",
        )

        post(port, "alertmanager", SAMPLES / "alertmanager" / "firing.json")
        incidents = json.loads(world.cli("incidents", "--json"))
        assert [i["service"] for i in incidents] == ["payment-processor"]

        # An edit to the failing service's code is questioned before the push is even approved.
        ask = world.hook(
            "PreToolUse",
            "s-processor",
            tool_name="Edit",
            tool_input={"file_path": str(world.repo / "services/processor/retry.py")},
        )
        assert json.loads(ask)["hookSpecificOutput"]["permissionDecision"] == "ask"

        # Before approval the agent hears only our fixed notice: no guidance, no sender text.
        notice = world.hook("UserPromptSubmit", "s-processor", prompt="continue")
        assert "INC-1: payment-processor (critical, triggered)" in notice
        assert "### Being assessed by the on-call engineer" in notice
        assert "Guidance from the on-call engineer" not in notice and "UNTRUSTED" not in notice

        # Approve: the file, the next prompt, and MCP all carry it; the prompt only once.
        first = world.pending("s-processor")
        world.cli("approve", first)
        assert "INC-1" in world.context_file("s-processor")
        told = world.hook("UserPromptSubmit", "s-processor", prompt="continue")
        assert "INC-1" in told and "payment-processor" in told
        assert world.hook("UserPromptSubmit", "s-processor", prompt="and now?") == ""
        over_mcp = await mcp_call(world, "s-processor", "get_context")
        assert "Keep timeouts, retries and circuit breakers" in over_mcp

        # Edit in $EDITOR: a new version, pending until approved; the agent keeps the old one.
        editor = world.tmp / "editor.py"
        editor.write_text(
            "import sys\nopen(sys.argv[1], 'w').write('Hands off retry.py until INC-1 is resolved.\\n')\n"
        )
        output = world.cli("edit", first, env={"EDITOR": f"{sys.executable} {editor}"})
        second = output.split()[0]
        assert world.rows("SELECT state FROM pushes WHERE id = ?", (first,))[0][0] == "delivered"
        world.cli("approve", second)
        assert world.rows("SELECT state FROM pushes WHERE id = ?", (first,))[0][0] == "superseded"
        assert "Hands off retry.py until INC-1 is resolved." in world.context_file("s-processor")
        assert "Hands off retry.py" in world.hook("UserPromptSubmit", "s-processor", prompt="next")
        ack = await mcp_call(world, "s-processor", "acknowledge", push_id=second)
        assert second in ack
        assert (
            world.rows("SELECT state FROM pushes WHERE id = ?", (second,))[0][0] == "acknowledged"
        )

        # Reject with a reason: that session is never told.
        rejected = world.pending("s-ledger")
        world.cli("reject", rejected, "--reason", "ledger is read-only this week")
        assert "INC-1" not in world.context_file("s-ledger")

        # Broadcast: every active session reads the engineer's message.
        world.cli(
            "broadcast",
            "INC-1",
            "--message",
            "Deploy freeze on payments until INC-1 closes",
            "--yes",
        )
        for session_id in ("s-processor", "s-ledger", "s-checkout"):
            assert "Deploy freeze on payments until INC-1 closes" in world.context_file(session_id)

        # Resolve: the stand-down is approved by rule, said once, and the files forget the incident.
        post(port, "alertmanager", SAMPLES / "scenario" / "alertmanager_resolved_all.json")
        assert json.loads(world.cli("incidents", "--json")) == []
        stand_down = world.rows(
            "SELECT state, json_extract(data, '$.auto_approved_by') FROM pushes"
            " WHERE kind = 'stand-down' AND session_id = 's-processor'"
        )
        assert stand_down == [("approved", "stand-down")]
        said = world.hook("UserPromptSubmit", "s-processor", prompt="status?")
        assert "stand down" in said.lower()
        assert world.hook("UserPromptSubmit", "s-processor", prompt="again?") == ""
        world.cli("export")
        for session_id in ("s-processor", "s-ledger", "s-checkout"):
            text = world.context_file(session_id)
            assert "INC-1" not in text and "No active incidents concern this session." in text
        kinds = {row[0] for row in world.rows("SELECT DISTINCT kind FROM journal")}
        assert {
            "push.approved",
            "push.rejected",
            "push.superseded",
            "push.acknowledged",
            "context.delivered",
            "incident.state_changed",
        } <= kinds
    finally:
        receiver.stop()
