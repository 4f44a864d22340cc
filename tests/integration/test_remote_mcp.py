"""``oncall-tui mcp --server URL`` driven by the real MCP client over stdio, against a receiver
on loopback that asks for a token (the world of :mod:`tests.integration.test_remote_hook`)."""

from __future__ import annotations

import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client

from oncall_tui.agents.hook.core import SESSION_START
from tests.integration.test_hook import SESSION, hook_event
from tests.integration.test_mcp import text_of
from tests.integration.test_remote_hook import Team, team

__all__ = ["team"]  # the fixture, shared with the remote hook's tests
LIMIT_S = 60


@asynccontextmanager
async def connected(world: Team, token: str) -> AsyncIterator[ClientSession]:
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oncall_tui", "mcp", "--server", world.receiver.url, "--session", SESSION],
        env={**world.env(), "ONCALL_TUI_TOKEN": token},
    )
    with (world.home / "mcp.stderr").open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


async def test_get_context_reads_through_the_server(team: Team) -> None:
    team.remote(hook_event(SESSION_START, SESSION, team.repo, source="startup"))
    team.approve_pending()

    with anyio.fail_after(LIMIT_S):
        async with connected(team, team.token) as session:
            context = await session.call_tool("get_context", {})
            acknowledged = await session.call_tool("acknowledge", {"push_id": "P-1"})

    assert not context.is_error
    assert "payment-processor" in text_of(context)
    assert text_of(acknowledged) == "P-1 (INC-1) acknowledged: the on-call engineer can see it."


async def test_a_wrong_token_is_a_tool_error_not_a_crash(team: Team) -> None:
    team.remote(hook_event(SESSION_START, SESSION, team.repo, source="startup"))

    with anyio.fail_after(LIMIT_S):
        async with connected(team, "wrong") as session:
            refused = await session.call_tool("get_context", {})

    assert refused.is_error and "401" in text_of(refused)
