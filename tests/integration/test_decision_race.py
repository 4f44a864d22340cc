"""Two engineers deciding the same push at once: exactly one wins, the other is told who won.

Each engineer is a separate connection to the same store (a dashboard and the CLI, or two
dashboards; in team mode two machines on one PostgreSQL database), racing from a barrier; the
loser's error names the winner and how long ago. Every case runs on both backends.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oncall_tui.actions import Rules
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.pushes import ActionError, approve, edit, reject
from oncall_tui.actions.sessions import register
from oncall_tui.cli import cli
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.pushes import Policy
from oncall_tui.ingest.record import Ingestor
from oncall_tui.paths import DbLocation
from oncall_tui.store.journal import Store
from tests.integration.conftest import STORY_TIME
from tests.support.samples import sample

RULES = Rules(policy=Policy(auto_approve=()))
Decision = Callable[[Store], object]


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[DbLocation]:
    """INC-1 firing, session s1 in its repo, P-1 pending for an engineer."""
    path: DbLocation = tmp_path / "oncall.db"
    if request.param == "postgresql":
        path = request.getfixturevalue("pg_url")()
    store = Store.open(path, FixedClock(STORY_TIME))
    try:
        body = sample("alertmanager/firing.json").read_bytes()
        Ingestor(store, Settings(db=path)).ingest("alertmanager", body, {}, verify="none")
        load_catalog_file(store, RULES, sample("catalog.yaml"), "user:alice")
        register(store, RULES, "s1", repo="acme-payments/payments-api", paths=[])
    finally:
        store.close()
    yield path


def _race(path: DbLocation, first: Decision, second: Decision) -> list[object]:
    """Run both decisions at once, each on its own connection; their results or errors."""
    barrier = threading.Barrier(2)
    outcomes: list[object] = [None, None]

    def run(index: int, decide: Decision) -> None:
        store = Store.open(path, FixedClock(STORY_TIME))
        try:
            barrier.wait()
            outcomes[index] = decide(store)
        except ActionError as exc:
            outcomes[index] = exc
        finally:
            store.close()

    threads = [threading.Thread(target=run, args=(i, d)) for i, d in enumerate((first, second))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return outcomes


def _states(path: DbLocation) -> list[tuple[str, str]]:
    store = Store.open(path)
    try:
        rows = store.conn.execute("SELECT id, state FROM pushes ORDER BY number").fetchall()
        return [(str(r[0]), str(r[1])) for r in rows]
    finally:
        store.close()


def test_two_approvals_at_once_one_wins_the_other_is_told_by_whom(db: DbLocation) -> None:
    outcomes = _race(
        db,
        lambda s: approve(s, "P-1", "user:alice", RULES),
        lambda s: approve(s, "P-1", "user:bob", RULES),
    )
    errors = [o for o in outcomes if isinstance(o, ActionError)]
    assert len(errors) == 1, outcomes
    winner = "user:alice" if isinstance(outcomes[1], ActionError) else "user:bob"
    assert str(errors[0]) == f"P-1 was already approved by {winner} 0s ago"
    assert _states(db) == [("P-1", "approved")]


def test_an_approval_and_a_rejection_at_once_leave_exactly_one_decision(db: DbLocation) -> None:
    outcomes = _race(
        db,
        lambda s: approve(s, "P-1", "user:alice", RULES),
        lambda s: reject(s, "P-1", "user:bob", "not this one"),
    )
    errors = [str(o) for o in outcomes if isinstance(o, ActionError)]
    assert len(errors) == 1, outcomes
    [(_, state)] = _states(db)
    expected = {"approved": "approved by user:alice", "rejected": "rejected by user:bob"}[state]
    assert errors == [f"P-1 was already {expected} 0s ago"]


def test_two_edits_at_once_make_one_new_version(db: DbLocation) -> None:
    outcomes = _race(
        db,
        lambda s: edit(s, "P-1", "user:alice", "Do not touch the retry budget."),
        lambda s: edit(s, "P-1", "user:bob", "Hold every deploy to payments."),
    )
    errors = [str(o) for o in outcomes if isinstance(o, ActionError)]
    assert len(errors) == 1, outcomes
    assert _states(db) == [("P-1", "superseded"), ("P-2", "pending")]
    assert errors[0].startswith("P-1 was already edited by user:")
    assert errors[0].endswith(" 0s ago (now P-2)")


def test_the_cli_says_who_approved_first(db: DbLocation) -> None:
    runner = CliRunner()
    first = runner.invoke(cli, ["--db", str(db), "approve", "P-1"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(cli, ["--db", str(db), "approve", "P-1"])
    assert second.exit_code != 0
    assert "P-1 was already approved by" in second.output
