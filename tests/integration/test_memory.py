"""Memory in the repository: export, import, check and commit in a real git repository."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from click.testing import CliRunner

from oncall_tui.actions import Rules
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.notes import accept_note, add_note, list_notes
from oncall_tui.actions.repo_memory import db_memory, export_memory, import_memory
from oncall_tui.cli import cli
from oncall_tui.config import Settings
from oncall_tui.core.agents import NoteKind
from oncall_tui.core.clock import FixedClock
from oncall_tui.store.journal import Store
from tests.support.git_repos import commit, git, init_repo
from tests.support.samples import sample

NOTED = "services/payments/client.py"
NOTE_TIME = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def _store(db: Path) -> Store:
    store = Store.open(db, FixedClock(NOTE_TIME))
    load_catalog_file(store, Rules.from_settings(Settings(db=db)), sample("catalog.yaml"), "t")
    return store


def _prepared(tmp_path: Path) -> tuple[Path, Path]:
    """A repo (remote acme-payments/payments-api) with the noted file committed before the
    note, and a DB with an engineer's note and an agent's accepted note about it."""
    repo = init_repo(tmp_path / "repo")
    commit(repo, "client", {NOTED: "TIMEOUT = 2\n"}, at="2026-03-01T09:00:00+00:00")
    db = tmp_path / "oncall.db"
    store = _store(db)
    try:
        add_note(
            store,
            author="alice",
            kind=NoteKind.DECISION,
            service="payment-processor",
            text="The 2 s timeout is the breaker.",
            rationale="INC-7",
            paths=[NOTED],
            repo_root=str(repo),
        )
        agent = add_note(
            store,
            author="agent:s1",
            kind=NoteKind.WARNING,
            service="payment-processor",
            text="Retries are idempotent.",
            paths=["services/payments/*.py"],
            repo_root=str(repo),
            agent_authored=True,
        )
        accept_note(store, agent.id, "alice")
    finally:
        store.close()
    return repo, db


def _cli(db: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--db", str(db), *args])
    return result.exit_code, result.output


def test_import_round_trip_gives_the_same_notes(tmp_path: Path) -> None:
    repo, db = _prepared(tmp_path)
    store = _store(db)
    services = ["payment-processor"]
    try:
        export_memory(store, repo, services)
        exported = db_memory(store, services)
    finally:
        store.close()
    fresh = _store(tmp_path / "fresh.db")
    try:
        first = import_memory(fresh, repo, "bob")
        again = import_memory(fresh, repo, "bob")
        assert first.added == ["N-1", "N-2"] and again.added == again.updated == []
        assert db_memory(fresh, services) == exported
        assert [n.id for n in list_notes(fresh)] == ["N-1", "N-2"]
    finally:
        fresh.close()


def test_check_commit_then_a_later_edit_is_flagged(tmp_path: Path) -> None:
    repo, db = _prepared(tmp_path)
    code, out = _cli(db, "memory", "check", "--repo", str(repo))
    assert code == 1 and "out of date, N-1 is missing (memory export)" in out
    assert _cli(db, "memory", "export", "--repo", str(repo))[0] == 0
    code, out = _cli(db, "memory", "check", "--repo", str(repo))
    assert (code, out.strip()) == (0, "memory ok")
    code, out = _cli(db, "memory", "commit", "--repo", str(repo))
    assert code == 0 and "N-1, N-2" in out, out
    message = git(repo, "log", "-1", "--format=%B")
    assert "Oncall-Note: N-1\nOncall-Note: N-2\n" in message
    assert "Co-authored-by: agent:s1 <s1@agents.oncall-tui.invalid>" in message
    assert git(repo, "show", "--name-only", "--format=", "HEAD").split() == [
        ".oncall/memory/payment-processor.md"
    ]
    edit = commit(repo, "shorter", {NOTED: "TIMEOUT = 1\n"}, at="2026-03-05T09:00:00+00:00")
    code, out = _cli(db, "memory", "check", "--repo", str(repo))
    assert code == 1
    assert f"N-1 (payment-processor): changed by commit {edit[:12]} on 2026-03-05" in out
    assert f"N-2 (payment-processor): changed by commit {edit[:12]}" in out


def test_memory_commit_refuses_when_the_check_fails(tmp_path: Path) -> None:
    repo, db = _prepared(tmp_path)
    head = git(repo, "rev-parse", "HEAD")
    code, out = _cli(db, "memory", "commit", "--repo", str(repo))
    assert code == 1 and "nothing committed" in out
    assert git(repo, "rev-parse", "HEAD") == head
