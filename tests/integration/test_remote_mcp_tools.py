"""Every MCP tool and the incident resources through ``mcp --server URL``, next to a local
``mcp --db``: the real MCP client over stdio on both sides, the real receiver on loopback asking
for a token. The two DBs start as copies of one prepared DB (:mod:`test_remote_hook`), so the
same calls must give the same answers and leave the same journal entries in each."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.shared.exceptions import MCPError

from oncall_tui.actions import Rules
from oncall_tui.actions.notes import accept_note
from oncall_tui.actions.pushes import approve
from oncall_tui.actions.sessions import register
from oncall_tui.agents.hook.core import SESSION_START
from oncall_tui.agents.mcp_remote import HttpBackend
from oncall_tui.core.clock import SystemClock
from oncall_tui.paths import DbLocation
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import NotFoundError
from oncall_tui.store.tokens import create_token
from tests.integration.test_hook import CATALOG, SESSION, hook_event, prepare_db
from tests.integration.test_mcp import read_text, text_of
from tests.integration.test_remote_hook import AFFECTED, Team, same_state, start_receiver, team
from tests.integration.test_remote_mcp import connected
from tests.support.receiver_http import Reply, request

__all__ = ["team"]  # the fixture, shared with the remote hook's tests
LIMIT_S = 60
OTHER = "0b1c2d3e-other-session"
NOTE = "The 2 s timeout in retry.py is the processor's circuit breaker: keep it."
UPDATED = "The timeout in retry.py is now 3 s, and still the processor's circuit breaker."
INSTANT = re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z| UTC)?")
FENCE = re.compile(r'"fence": "[0-9a-f]{16}"')
POSITION = re.compile(r'("seq": ?|"through_seq": ?)(\d+)')
TOOL_ERROR = re.compile(r"^Error executing tool \w+: ")
Answers = list[tuple[bool, str]]


@asynccontextmanager
async def local(world: Team) -> AsyncIterator[ClientSession]:
    """The local server on the other copy of the DB, bound to the same session."""
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oncall_tui", "--db", str(world.local_db), "mcp", "--session", SESSION],
        env=world.env(),
    )
    with (world.home / "local-mcp.stderr").open("w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write) as session,
        ):
            await session.initialize()
            yield session


def both_started(world: Team, *, locally: bool = True) -> None:
    """SESSION with its push P-1 approved, and another session's P-2, in both DBs (or only in
    the one behind the server)."""
    for session_id in (SESSION, OTHER):
        start = hook_event(SESSION_START, session_id, world.repo, source="startup")
        assert world.remote(start).returncode == 0
        assert not locally or world.local(start).returncode == 0
    world.approve_pending()


def unstamped(text: str, mark: int) -> str:
    """Without the instants (each DB saw the session at its own wall-clock second) and the
    fence, which is derived from the document that names it; journal positions counted from
    ``mark`` (the DB behind the server journaled its token too)."""
    text = FENCE.sub('"fence": "<fence>"', INSTANT.sub("<time>", same_state(text)))
    return POSITION.sub(lambda m: f"{m[1]}<mark+{int(m[2]) - mark}>", text)


def in_store(db: DbLocation, work: Callable[[Store], Any]) -> Any:
    store = Store.open(db, SystemClock())
    try:
        return work(store)
    finally:
        store.close()


def max_seq(db: Path) -> int:
    return int(in_store(db, lambda s: s.conn.execute("SELECT max(seq) FROM journal").fetchone()[0]))


def journal_after(db: Path, seq: int) -> list[tuple[str, str, str]]:
    rows = in_store(
        db,
        lambda s: s.conn.execute(
            "SELECT kind, actor, body FROM journal WHERE seq > ? ORDER BY seq", (seq,)
        ).fetchall(),
    )
    return [(kind, actor, unstamped(body, seq)) for kind, actor, body in rows]


async def every_tool(session: ClientSession, db: Path) -> Answers:
    """The same calls, in the same order, with an engineer accepting the agent's note midway."""
    answers: Answers = []
    mark = max_seq(db)

    async def call(name: str, arguments: dict[str, Any]) -> None:
        result = await session.call_tool(name, arguments)
        text = TOOL_ERROR.sub("", text_of(result))
        answers.append((bool(result.is_error), unstamped(text, mark)))

    await call("get_context", {})
    await call("get_context", {"format": "json"})
    await call("acknowledge", {"push_id": "p-1"})
    await call("acknowledge", {"push_id": "P-2"})  # the other session's
    await call("acknowledge", {"push_id": "P-99"})
    note = {"service": "payment-processor", "text": NOTE, "rationale": "INC-1"}
    await call("add_note", {**note, "paths": ["services/processor/retry.py"]})
    await call("add_note", {"service": "payment-processor", "text": "  "})
    await call("add_note", {"service": "billing", "text": "x", "kind": "decision"})
    await call("add_note", {"service": "payment-processor", "text": "x", "session_id": OTHER})
    in_store(db, lambda store: accept_note(store, "N-1", "user:alice"))
    await call("propose_update", {"note_id": "n-1", "text": UPDATED, "rationale": "3 s now"})
    await call("propose_update", {"note_id": "N-99", "text": "x"})
    await call("get_context", {})
    return answers


async def test_every_tool_answers_and_journals_as_a_local_server_does(team: Team) -> None:
    both_started(team)
    marks = max_seq(team.local_db), max_seq(team.remote_db)
    with anyio.fail_after(LIMIT_S):
        async with local(team) as here:
            locally = await every_tool(here, team.local_db)
        async with connected(team, team.token) as there:
            remotely = await every_tool(there, team.remote_db)

    assert remotely == locally
    errors = [text for failed, text in remotely if failed]
    assert errors == [
        "P-2 is not addressed to session 5f0c1e2a-7b3d-4c55-9e1f-0a1b2c3d4e5f:"
        " acknowledge only your own",
        "no push P-99",
        "a note needs text",
        "unknown service 'billing': the catalog knows payment-processor, payments-api, search",
        f"this server serves session {SESSION} only; it cannot act for session {OTHER}",
        "no current note N-99",
    ]
    assert "P-1 (INC-1) acknowledged" in remotely[2][1]
    assert remotely[5][1].startswith("N-1 saved for payment-processor")
    assert remotely[9][1].startswith("N-2 proposed as the update of N-1")
    assert NOTE in remotely[-1][1] and "UNTRUSTED-" in remotely[-1][1]
    journaled = journal_after(team.remote_db, marks[1])
    assert journaled == journal_after(team.local_db, marks[0])
    kinds = [kind for kind, _, _ in journaled]
    assert {"context.delivered", "push.acknowledged", "note.added"} <= set(kinds)
    assert {actor for kind, actor, _ in journaled if kind != "note.accepted"} == {
        f"agent:{SESSION}"
    }
    delivered = [body for kind, _, body in journaled if kind == "context.delivered"]
    assert len(delivered) == 3 and all('"channel":"mcp"' in body for body in delivered)


async def incident_resources(session: ClientSession) -> list[Any]:
    listed = (await session.list_resources()).resources
    with pytest.raises(MCPError) as missing:
        await session.read_resource("oncall://incidents/INC-99")
    return [
        [(str(r.uri), r.name, r.title, r.mime_type) for r in listed],
        await read_text(session, "oncall://incidents/INC-1"),
        await read_text(session, "oncall://incidents/1"),
        str(missing.value),
    ]


async def test_the_incident_resources_read_as_a_local_server_reads_them(team: Team) -> None:
    both_started(team)
    with anyio.fail_after(LIMIT_S):
        async with local(team) as here:
            locally = await incident_resources(here)
        async with connected(team, team.token) as there:
            remotely = await incident_resources(there)

    assert remotely == locally
    listed, summary, by_number, missing = remotely
    assert listed == [
        (
            "oncall://incidents/INC-1",
            "INC-1",
            "INC-1: critical, triggered, payment-processor",
            "text/markdown",
        )
    ]
    assert summary.startswith("# INC-1: critical, triggered") and by_number == summary
    assert missing == "no incident INC-99"


async def test_a_wrong_token_is_refused_and_writes_nothing(team: Team) -> None:
    both_started(team, locally=False)
    mark = max_seq(team.remote_db)
    with anyio.fail_after(LIMIT_S):
        async with connected(team, "wrong") as session:
            acked = await session.call_tool("acknowledge", {"push_id": "P-1"})
            noted = await session.call_tool(
                "add_note", {"service": "payment-processor", "text": NOTE}
            )
            with pytest.raises(MCPError, match="401"):
                await session.read_resource("oncall://incidents/INC-1")

    for refused in (acked, noted):
        assert refused.is_error
        assert text_of(refused).endswith(
            ": the server answered 401: missing or invalid credentials"
        )
    assert journal_after(team.remote_db, mark) == []


async def test_with_the_server_down_every_tool_says_it_cannot_be_reached(team: Team) -> None:
    both_started(team, locally=False)
    team.receiver.stop()
    calls = [
        ("get_context", {}),
        ("acknowledge", {"push_id": "P-1"}),
        ("add_note", {"service": "payment-processor", "text": NOTE}),
        ("propose_update", {"note_id": "N-1", "text": UPDATED}),
    ]
    with anyio.fail_after(LIMIT_S):
        async with connected(team, team.token) as session:
            results = [await session.call_tool(name, arguments) for name, arguments in calls]
            with pytest.raises(MCPError, match="cannot be reached"):
                await session.read_resource("oncall://incidents/INC-1")
            with pytest.raises(MCPError) as listing:
                await session.list_resources()

    for result in results:
        assert result.is_error
        assert text_of(result).endswith(f": {team.receiver.url} cannot be reached")
    assert str(listing.value) == f"{team.receiver.url} cannot be reached"


# --- the routes themselves ------------------------------------------------------------------


def post(team: Team, path: str, body: bytes, **headers: str) -> Reply:
    sent = {"Authorization": f"Bearer {team.token}", "Content-Type": "application/json"}
    return request(team.receiver.port, "POST", path, body, {**sent, **headers})


def reason(reply: Reply) -> str:
    return str(json.loads(reply.body)["error"])


def test_the_routes_bound_and_check_their_bodies_as_the_session_routes_do(team: Team) -> None:
    both_started(team, locally=False)
    notes = f"/sessions/{SESSION}/notes"
    note = {"service": "payment-processor", "text": NOTE}
    mark = max_seq(team.remote_db)

    too_big = post(team, notes, json.dumps({**note, "text": "x" * 2_000_000}).encode())
    as_text = post(team, notes, json.dumps(note).encode(), **{"Content-Type": "text/plain"})
    typo = post(team, notes, json.dumps({**note, "servcie": "x"}).encode())
    bad_kind = post(team, notes, json.dumps({**note, "kind": "rumour"}).encode())
    bad_session = post(team, "/sessions/not%20an%20id/notes", json.dumps(note).encode())
    unknown = post(team, "/sessions/ghost/acknowledgements", b'{"push": "P-1"}')
    everything = request(
        team.receiver.port, "GET", "/incidents", headers={"Authorization": f"Bearer {team.token}"}
    )
    anonymous = request(team.receiver.port, "GET", "/incidents?active=1")

    assert too_big.status == 413
    assert as_text.status == 415
    assert typo.status == 400 and reason(typo).startswith("invalid body: servcie")
    assert bad_kind.status == 400 and reason(bad_kind).startswith("invalid body: kind")
    assert bad_session.status == 400 and reason(bad_session).startswith("invalid session id")
    assert unknown.status == 404 and reason(unknown).startswith("no session ghost")
    assert everything.status == 400 and "active=1" in reason(everything)
    assert anonymous.status == 401
    assert journal_after(team.remote_db, mark) == []


def test_a_refused_action_is_409_in_its_own_words_and_echoes_no_agent_text(team: Team) -> None:
    both_started(team, locally=False)
    proposal = json.dumps({"text": "<script>" + NOTE}).encode()

    foreign = post(team, f"/sessions/{SESSION}/acknowledgements", b'{"push": "P-2"}')
    stale = post(team, f"/sessions/{SESSION}/notes/N-1/proposals", proposal)
    added = post(
        team, f"/sessions/{SESSION}/notes", json.dumps({"service": "search", "text": NOTE}).encode()
    )

    assert foreign.status == 409 and "not addressed to session" in reason(foreign)
    assert stale.status == 404 and reason(stale) == "no current note N-1"
    assert added.status == 201 and json.loads(added.body)["message"].startswith("N-1 saved")
    assert NOTE not in added.body.decode() and "script" not in stale.body.decode()


# --- team mode ------------------------------------------------------------------------------


async def test_on_postgresql_the_tools_write_to_the_teams_journal(
    pg_url: Callable[[], str], tmp_path: Path
) -> None:
    url = pg_url()
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG)
    rules = Rules()
    prepare_db(url, catalog, rules).close()
    store = Store.open(url, SystemClock())
    try:
        register(store, rules, SESSION, repo="acme-payments/payments-api", paths=[AFFECTED])
        approve(store, "P-1", "user:alice", rules)
        token = create_token(store, "laptop-7", "user:alice")
    finally:
        store.close()
    receiver = start_receiver(url)
    params = StdioServerParameters(
        command=sys.executable,
        args=["-m", "oncall_tui", "mcp", "--server", receiver.url, "--session", SESSION],
        env={"ONCALL_TUI_TOKEN": token, "XDG_CONFIG_HOME": str(tmp_path / "xdg")},
    )
    try:
        with anyio.fail_after(LIMIT_S), (tmp_path / "mcp.stderr").open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                context = await session.call_tool("get_context", {})
                acked = await session.call_tool("acknowledge", {"push_id": "P-1"})
                noted = await session.call_tool(
                    "add_note", {"service": "payment-processor", "text": NOTE}
                )
                listed = (await session.list_resources()).resources
    finally:
        receiver.stop()

    assert not context.is_error and "payment-processor" in text_of(context)
    assert text_of(acked).startswith("P-1 (INC-1) acknowledged")
    assert text_of(noted).startswith("N-1 saved for payment-processor")
    assert [str(r.uri) for r in listed] == ["oncall://incidents/INC-1"]
    kinds = in_store(
        url,
        lambda s: [
            (str(kind), str(actor))
            for kind, actor in s.conn.execute(
                "SELECT kind, actor FROM journal WHERE kind IN"
                " ('context.delivered', 'push.acknowledged', 'note.added') ORDER BY seq"
            ).fetchall()
        ],
    )
    assert kinds == [
        ("context.delivered", f"agent:{SESSION}"),
        ("push.acknowledged", f"agent:{SESSION}"),
        ("note.added", f"agent:{SESSION}"),
    ]


def test_a_blank_note_id_is_no_current_note_without_asking_the_server() -> None:
    """No route names an empty note: the answer is the local one, not "is the server older"."""
    nowhere = HttpBackend("http://127.0.0.1:9", "token", SESSION, timeout_s=0.1)
    with pytest.raises(NotFoundError, match="^no current note$"):
        nowhere.propose_update(" ", "x", "", None)
