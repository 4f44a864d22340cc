"""Commits and deploy ranges: their journal bodies, the projection (live and replayed), the
store's read API, the agent trailers and the commands that commit."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.agents.commits.hook_commits import commit_command_dir
from oncall_tui.agents.commits.record import record_deploy_range
from oncall_tui.agents.commits.trailers import TrailerMatcher, agent_of_trailer
from oncall_tui.config import DEFAULT_AGENT_TRAILERS
from oncall_tui.core import projection
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.commit_records import capped, merge_commit
from oncall_tui.core.commits import Commit, CommitSource, DeployRange
from oncall_tui.core.journal import CommitRecorded, DeployRangeResolved, Kind, decode
from oncall_tui.core.memory import MemoryTables
from oncall_tui.store import commits as store_commits
from oncall_tui.store.journal import Store
from tests.support.postgres import StoreOpener

WHEN = datetime(2026, 11, 23, 11, 40, tzinfo=UTC)
SHA_A, SHA_B, SHA_C = "a" * 40, "b" * 40, "c" * 40
HOOKED = Commit(
    sha=SHA_A,
    repo="acme-payments/payments-api",
    authored_at=WHEN,
    subject="Drop the processor timeout",
    files=("services/payments/client.py",),
    parents=(SHA_B,),
    session_id="s-1",
    agent="claude-code",
    source=CommitSource.HOOK,
)
SCANNED = Commit(
    sha=SHA_A,
    repo="acme-payments/payments-api",
    authored_at=WHEN,
    subject="Drop the processor timeout",
    session_id="s-2",
    agent="claude-code",
    source=CommitSource.TRAILER,
    trailer="Co-Authored-By: Claude <noreply@anthropic.com>",
)
DEPLOY = DeployRange(
    signal_id=7,
    service="payments-api",
    repo="acme-payments/payments-api",
    sha=SHA_A,
    previous_sha=SHA_C,
    shas=(SHA_A, SHA_B),
)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "oncall.db", FixedClock(WHEN))
    yield opened
    opened.close()


def test_bodies_round_trip_through_json() -> None:
    for body in (CommitRecorded(HOOKED), CommitRecorded(SCANNED), DeployRangeResolved(DEPLOY)):
        assert decode(body.KIND, json.loads(json.dumps(body.to_json()))) == body
    first = DeployRangeResolved(DeployRange(1, "s", "o/r", SHA_A, None))
    assert "previous_sha" not in first.to_json()


def test_the_first_session_attribution_stays() -> None:
    merged = merge_commit(HOOKED, SCANNED)
    assert (merged.session_id, merged.source) == ("s-1", CommitSource.HOOK)
    assert merged.trailer == SCANNED.trailer, "the trailer found later is kept"
    assert merged.files == HOOKED.files
    unattributed = Commit(SHA_A, "o/r", WHEN, agent="copilot", source=CommitSource.TRAILER)
    assert merge_commit(unattributed, HOOKED).session_id == "s-1", "a later session fills in"
    assert merge_commit(None, SCANNED) == SCANNED


def test_subjects_keep_their_first_line_only() -> None:
    long = Commit(SHA_A, "o/r", WHEN, subject="first\nsecond line", files=("f",) * 500)
    assert capped(long).subject == "first" and len(capped(long).files) == 200


def test_the_store_returns_what_was_recorded_and_replay_agrees(open_store: StoreOpener) -> None:
    store = open_store(FixedClock(WHEN))
    human = Commit(SHA_C, "acme-payments/payments-api", WHEN.replace(hour=9), subject="Human")
    with store.write() as writer:
        for body in (
            CommitRecorded(HOOKED),
            CommitRecorded(SCANNED),
            CommitRecorded(human),
            DeployRangeResolved(DEPLOY),
        ):
            writer.append(body, actor="engine")
    conn = store.conn
    found = store_commits.commits_by_sha(conn, [SHA_A, SHA_C, "f" * 40])
    assert set(found) == {SHA_A, SHA_C}
    assert found[SHA_A] == merge_commit(HOOKED, SCANNED)
    assert store_commits.session_commits(conn, ["s-1"]) == [found[SHA_A]]
    assert store_commits.session_commits(conn, ["s-2"]) == [], "the scan did not take it over"
    assert store_commits.all_commits(conn) == [human, found[SHA_A]], "oldest first"
    assert store_commits.deploy_ranges(conn, [7, 8]) == {7: DEPLOY}
    assert store_commits.all_deploy_ranges(conn) == [DEPLOY]

    replayed = projection.fold(store.entries(), MemoryTables())
    assert isinstance(replayed, MemoryTables)
    assert replayed.commits == {SHA_A: found[SHA_A], SHA_C: human}
    assert replayed.deploy_ranges == {7: DEPLOY}
    kinds = [k for (k,) in conn.execute("SELECT kind FROM journal ORDER BY seq")]
    assert kinds.count(Kind.COMMIT_RECORDED) == 3


def test_a_deploy_range_resolved_twice_is_journaled_once(open_store: StoreOpener) -> None:
    """Two serves on one database (or ``commits resolve`` beside serve) may both resolve it."""
    store = open_store(FixedClock(WHEN))
    assert record_deploy_range(store, DEPLOY) is True
    assert record_deploy_range(store, DEPLOY) is False
    kinds = [k for (k,) in store.conn.execute("SELECT kind FROM journal")]
    assert kinds.count(Kind.DEPLOY_RANGE_RESOLVED) == 1


@pytest.mark.parametrize(
    ("trailer", "agent"),
    [
        ("Co-Authored-By: Claude <noreply@anthropic.com>", "claude-code"),
        ("co-authored-by: Claude <noreply@anthropic.com>", "claude-code"),
        (
            "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>",
            "copilot",
        ),
        ("Generated-by: Cursor", "cursor"),
        ("Co-authored-by: Gemini <gemini@example.com>", "gemini"),
    ],
)
def test_default_trailers_name_their_agent(trailer: str, agent: str) -> None:
    matcher = TrailerMatcher.of(DEFAULT_AGENT_TRAILERS)
    assert matcher.agent_trailer(["Signed-off-by: Dev <dev@example.com>", trailer]) == trailer
    assert agent_of_trailer(trailer) == agent


def test_a_human_co_author_is_no_agent() -> None:
    matcher = TrailerMatcher.of(DEFAULT_AGENT_TRAILERS)
    assert matcher.agent_trailer(["Co-authored-by: Claudia Dev <claudia@example.com>"]) is None
    assert matcher.agent_trailer(["Co-authored-by: Ann <ann@example.com>"]) is None
    assert matcher.agent_trailer(["Reviewed-by: Claude"]) is None


@pytest.mark.parametrize(
    ("command", "where"),
    [
        ('git commit -m "fix"', "/w"),
        ("git add -A && git commit -qm fix", "/w"),
        ("GIT_AUTHOR_NAME=x git commit --amend --no-edit", "/w"),
        ("git -C sub merge --no-ff feature", "/w/sub"),
        ("git cherry-pick abc123", "/w"),
        ("git am < 0001.patch", "/w"),
        ("git rebase --continue", "/w"),
        ("git -c user.name=x commit -m y", "/w"),
    ],
)
def test_commands_that_commit(command: str, where: str) -> None:
    assert commit_command_dir(command, "/w") == where


@pytest.mark.parametrize(
    "command",
    ["git status", "git rebase main", "echo git commit", "git log --grep commit", "gitk", ""],
)
def test_commands_that_do_not(command: str) -> None:
    assert commit_command_dir(command, "/w") is None
