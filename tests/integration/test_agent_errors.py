"""Internal failures of the hook and of the MCP server leave a line in the error log beside the
DB, with nothing of the payload, and ``/healthz`` counts them.

The hook runs as Claude Code runs it (a process, its JSON on stdin), the MCP server through the
real MCP client over stdio, the receiver in process through httpx's ASGI transport.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path
from typing import Any

import anyio
import httpx

from oncall_tui.agents.error_log import log_path, record
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.server.app import create_app
from oncall_tui.store.journal import Store
from tests.integration.conftest import STORY_TIME
from tests.integration.test_hook import hook_event, run_hook
from tests.integration.test_mcp import LIMIT_S, Prepared, connected, prepared, text_of

__all__ = ["prepared"]  # the MCP fixture, used by name below

SECRET = "sk-live-DO-NOT-LOG-4f9a"
"""A token pasted into a prompt: it must not reach the log by any road."""
SESSION = "5f0c1e2a-7b3d-4c55-9e1f-0a1b2c3d4e5f"


def logged(db: Path) -> list[dict[str, Any]]:
    path = log_path(db)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def prompt(cwd: Path, session_id: str = SESSION) -> dict[str, Any]:
    """UserPromptSubmit input as the hooks reference shows it (common fields plus ``prompt``):
    https://code.claude.com/docs/en/hooks#userpromptsubmit-input"""
    return hook_event(
        "UserPromptSubmit", session_id, cwd, permission_mode="default", prompt=f"use {SECRET}"
    )


def test_a_hook_on_a_corrupted_db_prints_nothing_and_logs_one_line(tmp_path: Path) -> None:
    db = tmp_path / "oncall.db"
    db.write_bytes(b"\x00 not a sqlite file: overwritten by accident \xff" * 64)

    run = run_hook(db, prompt(tmp_path), cwd=tmp_path)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    [entry] = logged(db)
    assert entry["component"] == "hook claude-code" and entry["event"] == "prompt"
    assert entry["error"] == "sqlite3.DatabaseError"
    assert any(frame.startswith("oncall_tui/agents/hook/") for frame in entry["frames"])
    text = log_path(db).read_text()
    assert SECRET not in text and SESSION not in text and "not a database" not in text


def test_an_error_whose_message_quotes_the_payload_logs_only_its_class(tmp_path: Path) -> None:
    """An invalid session id is quoted in the exception's message; the log keeps the class."""
    db = tmp_path / "oncall.db"
    Store.open(db, FixedClock(STORY_TIME)).close()
    sender_chosen = f"{SECRET}/../x"

    run = run_hook(db, prompt(tmp_path, sender_chosen), cwd=tmp_path)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    [entry] = logged(db)
    assert entry["error"] == "oncall_tui.core.agents.InvalidIdError"
    assert SECRET not in log_path(db).read_text()


def test_with_debug_on_the_traceback_goes_to_stderr_and_the_line_to_the_log(
    tmp_path: Path,
) -> None:
    db = tmp_path / "oncall.db"
    db.write_bytes(b"garbage" * 100)

    run = run_hook(db, prompt(tmp_path), cwd=tmp_path, env={"ONCALL_TUI_DEBUG": "1"})

    assert (run.returncode, run.stdout) == (0, "")
    assert "DatabaseError" in run.stderr
    assert len(logged(db)) == 1


def test_a_hook_without_a_db_leaves_no_log(tmp_path: Path) -> None:
    run = run_hook(tmp_path / "oncall.db", prompt(tmp_path, "bad..id"), cwd=tmp_path)

    assert (run.returncode, run.stdout, run.stderr) == (0, "", "")
    assert list(tmp_path.iterdir()) == []


async def test_an_mcp_call_that_fails_inside_is_logged(prepared: Prepared) -> None:
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared, "--session", "s1") as session:
            with closing(sqlite3.connect(prepared.db)) as conn:
                conn.execute("PRAGMA user_version = 99")  # a newer oncall-tui took the DB over
            failed = await session.call_tool(
                "add_note", {"service": "payment-processor", "text": f"token {SECRET}"}
            )
            refused = await session.call_tool("get_context", {"session_id": "ghost"})

    assert failed.is_error and refused.is_error, text_of(failed)
    [entry] = logged(prepared.db)  # the refusal is the caller's: not an internal error
    assert entry["component"] == "mcp"
    assert entry["error"] == "oncall_tui.store.schema.SchemaTooNewError"
    assert SECRET not in log_path(prepared.db).read_text()


async def test_healthz_counts_the_agent_errors_of_the_last_24_hours(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "oncall.db", sources={"alertmanager": {"token": "t" * 32}})
    app = create_app(settings, FixedClock(STORY_TIME))
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    async with (
        app.rest.router.lifespan_context(app.rest),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9977") as client,
    ):
        quiet = (await client.get("/healthz")).json()
        for hours_ago in (30, 5, 1):
            try:
                raise OSError("stands for a failed hook")
            except OSError as exc:
                record(
                    settings.db,
                    "hook claude-code",
                    exc,
                    now=STORY_TIME - timedelta(hours=hours_ago),
                )
        noisy = (await client.get("/healthz")).json()

    assert quiet["status"] == "ok"
    assert (quiet["agent_errors_24h"], quiet["last_agent_error_at"]) == (0, None)
    assert noisy["agent_errors_24h"] == 2
    assert noisy["last_agent_error_at"] == (STORY_TIME - timedelta(hours=1)).isoformat()
    assert noisy["status"] == "ok"  # counted, not a reason to call the receiver unwell
