"""Memory that lives in git, from the agent's proposal to the check passing again.

In a real git repository with fixed commit dates: the agent proposes a note over the real MCP
client, the engineer accepts it (the CLI, or the notes screen driven by a Pilot), the memory is
exported and committed, a later commit edits the noted file, the check fails naming the note and
the commit, the agent's next context asks it to review the note, its proposed update is accepted,
and the check passes once the memory is exported and committed again.

The server is the one ``oncall-tui mcp`` runs (:func:`build_server`), reached by the SDK's
client over its in-memory transport so that it shares the test's fixed clock: a note's time
decides which commits come "after" it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import anyio
import pytest
from click.testing import CliRunner
from mcp import ClientSession
from mcp.client._memory import InMemoryTransport
from mcp_types import CallToolResult, TextContent

from oncall_tui.actions import Rules, sessions
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.agents.mcp import build_server
from oncall_tui.cli import cli
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.context.render import REVIEW_REQUEST
from oncall_tui.demo.command import demo_settings
from oncall_tui.store.journal import Store
from oncall_tui.tui.screens.notes import NotesScreen
from oncall_tui.tui.widgets.note_table import NoteTable
from tests.support.git_repos import commit, git, init_repo
from tests.support.samples import sample
from tests.ui.conftest import build_app, settle

LIMIT_S = 30
SESSION = "s1"
NOTED = "services/processor/retry.py"
"""In payment-processor's paths in the sample catalog (repo acme-payments/payments-api)."""
WRITTEN = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
"""When the agent proposes its note: after the file's first commit, before the edit."""
REVIEWED = datetime(2026, 3, 6, 10, 0, tzinfo=UTC)
"""When the agent proposes its update: after the edit."""


class Scene:
    """A repository, a DB with the catalog and session s1 working in it, and a fixed clock."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.repo = init_repo(tmp_path / "repo")
        commit(self.repo, "retry", {NOTED: "ATTEMPTS = 3\n"}, at="2026-03-01T09:00:00+00:00")
        self.db = tmp_path / "oncall.db"
        self.settings = Settings(db=self.db)
        self.clock = FixedClock(WRITTEN)
        store = self.store()
        try:
            rules = Rules.from_settings(self.settings)
            load_catalog_file(store, rules, sample("catalog.yaml"), "test")
            sessions.register(
                store,
                rules,
                SESSION,
                repo="acme-payments/payments-api",
                cwd=str(self.repo),
                branch="main",
                paths=[NOTED],
            )
        finally:
            store.close()

    def store(self) -> Store:
        return Store.open(self.db, self.clock)

    @asynccontextmanager
    async def agent(self) -> AsyncIterator[ClientSession]:
        """The agent's MCP connection, to a server bound to its session."""
        server = build_server(self.db, self.settings, self.clock, SESSION)
        async with InMemoryTransport(server) as (read, write), ClientSession(read, write) as mcp:
            await mcp.initialize()
            yield mcp

    def cli(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli, ["--db", str(self.db), *args])
        return result.exit_code, result.output

    def memory(self, command: str) -> tuple[int, str]:
        return self.cli("memory", command, "--repo", str(self.repo))


def text_of(result: CallToolResult) -> str:
    assert not result.is_error, result
    return "\n".join(c.text for c in result.content if isinstance(c, TextContent))


async def accept_on_the_notes_screen(scene: Scene, tmp_path: Path) -> None:
    """The engineer opens the notes screen (key N) and accepts the pending note, first in it."""
    settings = demo_settings(tmp_path / "ui").model_copy(update={"db": scene.db})
    app = build_app(settings, tmp_path, clock=scene.clock)
    async with app.run_test(size=(160, 48)) as pilot:
        await settle(pilot, paint_s=0.05)
        await pilot.press("N")
        await settle(pilot, paint_s=0.05)
        assert isinstance(app.screen, NotesScreen)
        assert app.screen.query_one(NoteTable).row_keys_in_order[0] == "N-1"
        await pilot.press("a")
        await settle(pilot, paint_s=0.05)


@pytest.mark.parametrize("accepted_in", ["cli", "notes screen"])
async def test_a_note_from_proposal_to_a_passing_check(tmp_path: Path, accepted_in: str) -> None:
    scene = Scene(tmp_path)
    with anyio.fail_after(LIMIT_S):
        async with scene.agent() as agent:
            added = await agent.call_tool(
                "add_note",
                {
                    "service": "payment-processor",
                    "kind": "decision",
                    "text": "Three attempts: the acquirer dedupes retries for 30 s only.",
                    "rationale": "INC-7",
                    "paths": [NOTED],
                },
            )
    assert text_of(added).startswith("N-1 saved for payment-processor")

    if accepted_in == "cli":
        assert scene.cli("notes", "accept", "N-1") == (0, "N-1 accepted\n")
    else:
        await accept_on_the_notes_screen(scene, tmp_path)
    code, out = scene.cli("notes", "list")
    assert code == 0 and "N-1" in out and "awaiting review" not in out

    assert scene.memory("export")[0] == 0
    assert scene.memory("check") == (0, "memory ok\n")
    code, out = scene.memory("commit")
    assert code == 0 and out.startswith("committed ") and "N-1" in out, out
    message = git(scene.repo, "log", "-1", "--format=%B")
    assert "Oncall-Note: N-1" in message
    assert f"Co-authored-by: agent:{SESSION}" in message
    assert git(scene.repo, "show", "--name-only", "--format=", "HEAD").split() == [
        ".oncall/memory/payment-processor.md"
    ]

    edit = commit(scene.repo, "fewer", {NOTED: "ATTEMPTS = 1\n"}, at="2026-03-05T09:00:00+00:00")
    code, out = scene.memory("check")
    assert code == 1
    assert f"N-1 (payment-processor): changed by commit {edit[:12]} on 2026-03-05" in out

    scene.clock.set(REVIEWED)
    with anyio.fail_after(LIMIT_S):
        async with scene.agent() as agent:
            context = text_of(await agent.call_tool("get_context", {}))
            assert "N-1" in context and REVIEW_REQUEST in context
            proposed = await agent.call_tool(
                "propose_update",
                {
                    "note_id": "N-1",
                    "text": "One attempt: the acquirer no longer dedupes retries.",
                    "rationale": f"commit {edit[:12]}",
                },
            )
    assert "N-2 proposed as the update of N-1" in text_of(proposed)
    code, out = scene.cli("context", SESSION)
    assert code == 0 and REVIEW_REQUEST in out, "N-1 holds until the update is accepted"

    assert scene.cli("notes", "accept", "N-2") == (0, "N-2 accepted\n")
    assert scene.memory("export")[0] == 0
    code, out = scene.memory("commit")
    assert code == 0 and "N-2" in out, out
    assert "Oncall-Note: N-2" in git(scene.repo, "log", "-1", "--format=%B")
    assert scene.memory("check") == (0, "memory ok\n")
    code, out = scene.cli("context", SESSION)
    assert code == 0 and REVIEW_REQUEST not in out and "One attempt" in out
