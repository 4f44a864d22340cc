"""Editing a push once its incident has resolved: refused at once, by the action and the CLI.

An edit makes a new pending version, and an update of a resolved incident can never be
approved, so an edit accepted then would wait for ever in the engineer's queue.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from oncall_tui.actions import Rules
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.incidents import change_incident_state
from oncall_tui.actions.pushes import ActionError, approve, edit
from oncall_tui.actions.sessions import register
from oncall_tui.cli import cli
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.models import IncidentState
from oncall_tui.core.pushes import Policy
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from tests.integration.conftest import STORY_TIME
from tests.support.samples import sample

REFUSAL = (
    "INC-1 is resolved, so P-1 can no longer be edited:"
    " agents now hear its stand-down (edit or approve that instead)"
)


@pytest.fixture
def resolved(tmp_path: Path) -> Iterator[Store]:
    """INC-1 resolved after session s1 was told about it (P-1 approved); P-2, its stand-down,
    left for an engineer (no auto-approval rule) so that it can still be worded."""
    rules = Rules(policy=Policy(auto_approve=()))
    store = Store.open(tmp_path / "oncall.db", FixedClock(STORY_TIME))
    try:
        body = sample("alertmanager/firing.json").read_bytes()
        Ingestor(store, Settings(db=store.path)).ingest("alertmanager", body, {}, verify="none")
        load_catalog_file(store, rules, sample("catalog.yaml"), "user:alice")
        register(store, rules, "s1", repo="acme-payments/payments-api", paths=[])
        approve(store, "P-1", "user:alice", rules)
        change_incident_state(store, "INC-1", IncidentState.RESOLVED, "user:alice", rules)
        yield store
    finally:
        store.close()


def pushes(store: Store) -> list[tuple[str, str, str]]:
    rows = store.conn.execute("SELECT id, kind, state FROM pushes ORDER BY number").fetchall()
    return [tuple(row) for row in rows]


def test_the_action_refuses_to_edit_an_update_of_a_resolved_incident(resolved: Store) -> None:
    before = pushes(resolved)
    assert before == [("P-1", "update", "approved"), ("P-2", "stand-down", "pending")]

    with pytest.raises(ActionError) as refused:
        edit(resolved, "P-1", "user:alice", "Keep the breaker until the bank confirms.")

    assert str(refused.value) == REFUSAL
    assert pushes(resolved) == before
    # The stand-down is what concerns the agents now, and it can still be worded.
    reworded = edit(resolved, "P-2", "user:alice", "Resolved; the 2 s timeout stays as it is.")
    rules = Rules(policy=Policy(auto_approve=()))
    assert approve(resolved, reworded.id, "user:alice", rules).state.value == "approved"


def test_the_cli_refuses_before_the_editor_opens(
    resolved: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened = tmp_path / "editor-opened"
    monkeypatch.setenv("EDITOR", f"touch {opened}; true")
    assert resolved.path is not None

    result = CliRunner().invoke(cli, ["--db", str(resolved.path), "edit", "P-1"])

    assert (result.exit_code, result.output) == (1, f"Error: {REFUSAL}\n")
    assert not opened.exists()
    assert pushes(resolved)[-1] == ("P-2", "stand-down", "pending")
