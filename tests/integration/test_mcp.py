"""``oncall-tui mcp`` driven by the real MCP client over stdio, against a DB built by real actions.

The server runs as its own process, as Claude Code would start it; the test reads the outcome
from the DB with connections of its own, closed at once.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError
from mcp_types import CallToolResult, TextContent, TextResourceContents

from oncall_tui.actions import Rules, pushes, sessions
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.notes import accept_note
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from tests.integration.conftest import STORY_TIME
from tests.support.samples import sample

LIMIT_S = 20
REPO = "acme-payments/payments-api"
PATHS = ["services/processor/retry.py"]
GUIDANCE = "Keep timeouts, retries and circuit breakers exactly as they are"
SENDER_TITLE = "5xx ratio above 5%"


@dataclass
class Prepared:
    db: Path
    tmp: Path

    def store(self) -> Store:
        return Store.open(self.db, FixedClock(STORY_TIME))

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def journal(self, kind: str) -> list[tuple[str, dict[str, Any]]]:
        rows = self.rows("SELECT actor, body FROM journal WHERE kind = ? ORDER BY seq", (kind,))
        return [(actor, json.loads(body)) for actor, body in rows]

    def push_state(self, push_id: str) -> str:
        return str(self.rows("SELECT state FROM pushes WHERE id = ?", (push_id,))[0][0])

    def register(self, session_id: str) -> str:
        """Register a session touching the processor; returns its (pending) push id."""
        settings = Settings(db=self.db)
        store = self.store()
        try:
            sessions.register(
                store, Rules.from_settings(settings), session_id, repo=REPO, paths=PATHS
            )
        finally:
            store.close()
        rows = self.rows("SELECT id FROM pushes WHERE session_id = ?", (session_id,))
        return str(rows[0][0])


@pytest.fixture
def prepared(tmp_path: Path) -> Prepared:
    """INC-1 on payment-processor, the sample catalog, session s1 with its push P-1 approved."""
    db = tmp_path / "oncall.db"
    settings = Settings(db=db)
    rules = Rules.from_settings(settings)
    ready = Prepared(db, tmp_path)
    store = ready.store()
    try:
        body = sample("alertmanager/firing.json").read_bytes()
        result = Ingestor(store, settings).ingest("alertmanager", body, {}, verify="none")
        assert result.incidents == ["INC-1"]
        load_catalog_file(store, rules, sample("catalog.yaml"), "test")
    finally:
        store.close()
    push_id = ready.register("s1")
    store = ready.store()
    try:
        pushes.approve(store, push_id, "alice", rules)
    finally:
        store.close()
    assert ready.push_state(push_id) == "approved"
    return ready


@asynccontextmanager
async def connected(
    ready: Prepared, *args: str, env: dict[str, str] | None = None
) -> AsyncIterator[ClientSession]:
    """A client session with ``oncall-tui --db DB mcp ARGS`` (machine config kept out)."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oncall_tui", "--db", str(ready.db), "mcp", *args],
        env={"XDG_CONFIG_HOME": str(ready.tmp / "xdg"), **(env or {})},
    )
    with (ready.tmp / "server.stderr").open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def text_of(result: CallToolResult) -> str:
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


async def read_text(session: ClientSession, uri: str) -> str:
    result = await session.read_resource(uri)
    contents = result.contents
    assert len(contents) == 1 and isinstance(contents[0], TextResourceContents)
    return contents[0].text


async def test_lists_tools_templates_and_instructions(prepared: Prepared) -> None:
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared, "--session", "s1") as session:
            info = await session.initialize()
            tools = {t.name: t for t in (await session.list_tools()).tools}
            templates = (await session.list_resource_templates()).resource_templates
    assert set(tools) == {"get_context", "acknowledge", "add_note", "propose_update"}
    assert set(tools["add_note"].input_schema["required"]) == {"service", "text"}
    assert {t.uri_template for t in templates} == {
        "oncall://sessions/{session_id}/context",
        "oncall://sessions/{session_id}/context.json",
        "oncall://incidents/{incident_id}",
    }
    assert info.instructions is not None
    assert "UNTRUSTED" in info.instructions and "on-call engineer" in info.instructions


async def test_get_context_delivers_incident_and_guidance(prepared: Prepared) -> None:
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared, "--session", "s1") as session:
            markdown = await session.call_tool("get_context", {})
            as_json = await session.call_tool("get_context", {"format": "json"})
    assert not markdown.is_error, text_of(markdown)
    text = text_of(markdown)
    assert "INC-1" in text and GUIDANCE in text
    assert SENDER_TITLE in text and "UNTRUSTED-" in text  # sender text only inside the fence
    document = json.loads(text_of(as_json))
    assert [i["id"] for i in document["incidents"]] == ["INC-1"]
    assert GUIDANCE in document["incidents"][0]["guidance"]
    delivered = prepared.journal("context.delivered")
    assert len(delivered) == 2
    actor, body = delivered[0]
    assert actor == "agent:s1"
    assert body["channel"] == "mcp" and body["session_id"] == "s1" and body["push_ids"] == ["P-1"]
    assert body["through_seq"] == document["seq"] > 0
    assert prepared.push_state("P-1") == "delivered"


async def test_session_context_resources_read_without_delivering(prepared: Prepared) -> None:
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared) as session:
            markdown = await read_text(session, "oncall://sessions/s1/context")
            document = json.loads(await read_text(session, "oncall://sessions/s1/context.json"))
            with pytest.raises(MCPError, match="no session nobody"):
                await session.read_resource("oncall://sessions/nobody/context")
    assert "INC-1" in markdown and GUIDANCE in markdown
    assert document["session"]["id"] == "s1"
    assert document["incidents"][0]["push_id"] == "P-1"
    assert prepared.journal("context.delivered") == []


async def test_incident_resources_follow_active_incidents(prepared: Prepared) -> None:
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared, "--session", "s1") as session:
            listed = (await session.list_resources()).resources
            summary = await read_text(session, "oncall://incidents/INC-1")
            with pytest.raises(MCPError, match="no incident INC-99"):
                await session.read_resource("oncall://incidents/INC-99")
    assert [(str(r.uri), r.mime_type) for r in listed] == [
        ("oncall://incidents/INC-1", "text/markdown")
    ]
    assert summary.startswith("# INC-1: critical, triggered")
    assert (
        "`payment-processor`" in summary
        and "None linked." in summary
        # Opened when oncall-tui received the alert (the store's clock), not at its startsAt.
        and "Opened: 2026-11-23 12:00:17 UTC" in summary
    )
    assert SENDER_TITLE not in summary  # sender text is left out of the unfenced summary


async def test_acknowledge_own_push_only(prepared: Prepared) -> None:
    other = prepared.register("s2")
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared, "--session", "s1") as session:
            refused = await session.call_tool("acknowledge", {"push_id": other})
            done = await session.call_tool("acknowledge", {"push_id": "p-1"})
            missing = await session.call_tool("acknowledge", {"push_id": "P-99"})
    assert refused.is_error and f"{other} is not addressed to session s1" in text_of(refused)
    assert prepared.push_state(other) == "pending"
    assert not done.is_error and "P-1 (INC-1) acknowledged" in text_of(done)
    assert prepared.push_state("P-1") == "acknowledged"
    assert prepared.journal("push.acknowledged") == [
        ("agent:s1", {"push_id": "P-1", "by": "agent:s1"})
    ]
    assert missing.is_error and "no push P-99" in text_of(missing)


async def test_agent_note_waits_for_an_engineer(prepared: Prepared) -> None:
    prepared.register("s2")
    note_text = "The 2 s timeout in retry.py is the processor's circuit breaker: keep it."
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared) as session:  # not bound: each call names its session
            added = await session.call_tool(
                "add_note",
                {
                    "service": "payment-processor",
                    "text": note_text,
                    "rationale": "INC-1",
                    "session_id": "s1",
                },
            )
            before = await session.call_tool("get_context", {"session_id": "s2"})
            (pending,) = [json.loads(r[0]) for r in prepared.rows("SELECT data FROM notes")]
            store = prepared.store()
            try:
                accept_note(store, pending["id"], "alice")
            finally:
                store.close()
            after = await session.call_tool("get_context", {"session_id": "s2"})
    assert not added.is_error and "not yet accepted" in text_of(added)
    assert pending["agent_authored"] is True and pending["accepted"] is False
    assert pending["author"] == "agent:s1" and pending["kind"] == "warning"
    assert pending["service"] == "payment-processor" and pending["rationale"] == "INC-1"
    assert pending["id"] in text_of(added)
    assert note_text not in text_of(before)
    assert note_text in text_of(after)


async def test_a_server_started_for_a_session_serves_no_other(prepared: Prepared) -> None:
    other = prepared.register("s2")
    store = prepared.store()
    try:
        pushes.approve(store, other, "alice", Rules.from_settings(Settings(db=prepared.db)))
    finally:
        store.close()
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared, "--session", "s1") as session:
            acked = await session.call_tool("acknowledge", {"push_id": other, "session_id": "s2"})
            delivered = await session.call_tool("get_context", {"session_id": "s2"})
            noted = await session.call_tool(
                "add_note", {"service": "payment-processor", "text": "x", "session_id": "s2"}
            )
            with pytest.raises(MCPError, match="serves session s1 only"):
                await session.read_resource("oncall://sessions/s2/context")
            own = await session.call_tool("acknowledge", {"push_id": "P-1", "session_id": "s1"})
    for refused in (acked, delivered, noted):
        assert refused.is_error
        assert "serves session s1 only; it cannot act for session s2" in text_of(refused)
    assert prepared.push_state(other) == "approved"
    assert not own.is_error and prepared.push_state("P-1") == "acknowledged"
    assert [body for _, body in prepared.journal("push.acknowledged")] == [
        {"push_id": "P-1", "by": "agent:s1"}
    ]
    assert prepared.journal("context.delivered") == []
    assert prepared.rows("SELECT count(*) FROM notes") == [(0,)]


@pytest.mark.parametrize("state", ["missing", "empty"])
def test_the_server_never_creates_a_db(tmp_path: Path, state: str) -> None:
    directory = tmp_path / "data"
    directory.mkdir()
    db = directory / "typo.db"
    if state == "empty":
        db.touch()
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(db), "mcp", "--session", "s1"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=LIMIT_S,
        env={"PATH": os.environ.get("PATH", ""), "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
        check=False,
    )
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr.strip().splitlines() == [
        f"Error: no oncall-tui DB at {db} (missing, empty or not oncall-tui's): start the"
        " dashboard or serve with this --db first"
    ]
    assert sorted(p.name for p in directory.iterdir()) == (
        [] if state == "missing" else ["typo.db"]
    )
    assert state == "missing" or db.stat().st_size == 0


async def test_errors_are_tool_errors(prepared: Prepared) -> None:
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared) as session:
            no_session = await session.call_tool("get_context", {})
            unknown = await session.call_tool("get_context", {"session_id": "ghost"})
            invalid = await session.call_tool("get_context", {"session_id": "../etc"})
            bad_kind = await session.call_tool(
                "add_note", {"service": "payment-processor", "text": "x", "kind": "rumour"}
            )
            empty = await session.call_tool(
                "add_note", {"service": "payment-processor", "text": "  ", "session_id": "s1"}
            )
            still_alive = await session.call_tool("get_context", {"session_id": "s1"})
    assert no_session.is_error and "no session id" in text_of(no_session)
    assert unknown.is_error and "no session ghost" in text_of(unknown)
    assert invalid.is_error and "invalid session id" in text_of(invalid)
    assert bad_kind.is_error and "kind" in text_of(bad_kind)
    assert empty.is_error and "a note needs text" in text_of(empty)
    assert not still_alive.is_error and "INC-1" in text_of(still_alive)


async def test_session_defaults_to_claude_code_env(prepared: Prepared) -> None:
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared, env={"CLAUDE_CODE_SESSION_ID": "s1"}) as session:
            result = await session.call_tool("get_context", {})
    assert not result.is_error and GUIDANCE in text_of(result)
