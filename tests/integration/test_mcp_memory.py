"""Notes with places over the real MCP client: paths, the catalog check, proposed updates."""

from __future__ import annotations

import json

import anyio

from oncall_tui.actions.notes import accept_note
from tests.integration.test_mcp import (
    LIMIT_S,
    Prepared,
    connected,
    prepared,
    text_of,
)

__all__ = ["prepared"]  # the fixture, shared with the MCP tests


async def test_add_note_with_paths_and_propose_update(prepared: Prepared) -> None:
    with anyio.fail_after(LIMIT_S):
        async with connected(prepared, "--session", "s1") as session:
            added = await session.call_tool(
                "add_note",
                {
                    "service": "payment-processor",
                    "text": "The 2 s timeout is the breaker.",
                    "paths": ["services/payments/*.py"],
                },
            )
            unknown = await session.call_tool("add_note", {"service": "nope", "text": "x"})
            store = prepared.store()
            try:
                accept_note(store, "N-1", "alice")
            finally:
                store.close()
            proposed = await session.call_tool(
                "propose_update",
                {"note_id": "N-1", "text": "The timeout is 1 s now.", "rationale": "commit"},
            )
            rows = [
                json.loads(r[0]) for r in prepared.rows("SELECT data FROM notes ORDER BY number")
            ]
    assert not added.is_error and rows[0]["paths"] == ["services/payments/*.py"]
    assert unknown.is_error and "unknown service 'nope'" in text_of(unknown)
    assert not proposed.is_error and "N-2 proposed as the update of N-1" in text_of(proposed)
    assert rows[1]["supersedes"] == "N-1" and rows[1]["accepted"] is False
    assert rows[0].get("superseded_by") is None  # in force until an engineer accepts N-2
    store = prepared.store()
    try:
        accept_note(store, "N-2", "alice")
    finally:
        store.close()
    (old,) = [json.loads(r[0]) for r in prepared.rows("SELECT data FROM notes WHERE id='N-1'")]
    assert old["superseded_by"] == "N-2"
