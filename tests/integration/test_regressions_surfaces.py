"""Where people look at an agent-assisted regression: the dashboard's incident list and detail,
the replay's story and the timeline export, over the played regression story
(``regressions_story.play_regression``: INC-2 on payments-api follows a deploy that shipped a
Claude Code session's commit; INC-3 on search follows a deploy of human commits only).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from oncall_tui.cli.app_context import AppContext
from oncall_tui.cli.timeline_cmd import timeline
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.journal import Kind
from oncall_tui.core.timeline.model import Milestone
from oncall_tui.store import dashboard
from oncall_tui.store.journal import Store
from oncall_tui.store.timeline import StorySource
from oncall_tui.tui.loader import Loader, View, load_incident_detail
from oncall_tui.tui.replay_loader import ReplaySession
from oncall_tui.tui.screens.incident_detail import render_incident
from oncall_tui.tui.widgets.incident_table import AGENT_TAG, incident_rows
from tests.integration.regressions_story import AGENT_SHA, HUMAN_SHA, SESSION, play_regression

AFTER = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)
"""Half an hour after the story's last alert."""


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return play_regression(tmp_path_factory.mktemp("surfaces")).db


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    opened = Store.open(db, FixedClock(AFTER))
    yield opened
    opened.close()


def export(db: Path, incident_id: str, fmt: str) -> str:
    app = AppContext(config_path=None, db_override=db)
    result = CliRunner().invoke(
        timeline, [incident_id, "--format", fmt], obj=app, catch_exceptions=False
    )
    app.close()
    assert result.exit_code == 0, result.stderr
    return result.stdout


# --- dashboard ------------------------------------------------------------------------------


def test_the_incident_list_marks_only_the_agent_assisted_incident(db: Path) -> None:
    loader = Loader(db, FixedClock(AFTER), keep_resolved_s=86400)
    snapshot = loader.snapshot(View(None, dashboard.IncidentFilter(include_resolved=True)))
    assert {i.id for i in snapshot.page.incidents} == {"INC-1", "INC-2", "INC-3"}
    assert snapshot.agent_assisted == frozenset({"INC-2"})

    rows = dict(
        incident_rows(snapshot.page.incidents, {}, AFTER, {}, "dim", snapshot.agent_assisted)
    )
    titles = {incident_id: cells[4].plain for incident_id, cells in rows.items()}
    assert titles["INC-2"].startswith(f"{AGENT_TAG} payments-api")
    assert not titles["INC-1"].startswith(AGENT_TAG) and not titles["INC-3"].startswith(AGENT_TAG)


def test_the_detail_screen_names_session_agent_commit_and_state(db: Path) -> None:
    loader = Loader(db, FixedClock(AFTER))
    text = render_incident(load_incident_detail(loader, "INC-2"), {}).plain
    assert "Agent-assisted" in text
    [line] = [x for x in text.splitlines() if AGENT_SHA[:7] in x and "by claude-code" in x]
    assert SESSION in line and "not told (pending)" in line
    assert "Drop the 2 s processor timeout" in line
    human = render_incident(load_incident_detail(loader, "INC-3"), {}).plain
    assert "Agent-assisted" not in human


# --- replay ---------------------------------------------------------------------------------


def test_the_story_carries_the_agent_commit_and_the_resolved_deploy(store: Store) -> None:
    events = list(StorySource(store, "INC-2").timeline().events)
    kinds = [(e.kind, e.milestone) for e in events]
    assert (Kind.COMMIT_RECORDED, Milestone.AGENT_COMMIT) in kinds
    assert (Kind.DEPLOY_RANGE_RESOLVED, Milestone.RANGE_RESOLVED) in kinds
    [commit] = [e for e in events if e.kind == Kind.COMMIT_RECORDED]
    assert commit.summary == (
        f"commit {AGENT_SHA[:7]} by {SESSION} (claude-code) in acme-payments/payments-api:"
        " Drop the 2 s processor timeout: retries handle it"
    ), "the human commit of the same deploy is left out"
    assert all(HUMAN_SHA[:7] not in e.summary for e in events)
    [deploy] = [e for e in events if e.kind == Kind.DEPLOY_RANGE_RESOLVED]
    assert deploy.summary.startswith(f"deploy {AGENT_SHA[:7]} of acme-payments/payments-api")
    assert "shipped 2 commits since 9f4c2e1 (git)" in deploy.summary


def test_the_replay_strip_marks_the_commit_and_the_deploy(db: Path) -> None:
    replay = ReplaySession(Loader(db, FixedClock(AFTER)), "INC-2")
    try:
        frame = replay.move(lambda cursor: cursor.seek_seq(0))
        names = [m.name for m in frame.marks]
        assert names[:4] == ["agent commit", "deploy", "deploy commits resolved", "first signal"]
        while frame.index + 1 < frame.total:  # every step folds, the commit rows included
            frame = replay.move(lambda cursor: cursor.step(1))
        assert frame.incidents[0].id == "INC-2"
    finally:
        replay.close()


@pytest.mark.parametrize("incident_id", ["INC-1", "INC-3"])
def test_other_stories_leave_commits_and_foreign_ranges_out(store: Store, incident_id: str) -> None:
    events = StorySource(store, incident_id).timeline().events
    assert not [e for e in events if e.kind == Kind.COMMIT_RECORDED]
    ranges = [e for e in events if e.kind == Kind.DEPLOY_RANGE_RESOLVED]
    assert all(AGENT_SHA[:7] not in e.summary for e in ranges)
    assert len(ranges) == (1 if incident_id == "INC-3" else 0), "only its own suspect deploy"


# --- timeline export ------------------------------------------------------------------------


def test_the_exports_have_an_agent_assisted_section(db: Path) -> None:
    document = json.loads(export(db, "INC-2", "json"))
    [record] = document["incidents"]
    [deploy] = record["agent_assisted"]["deploys"]
    [commit] = deploy["commits"]
    assert (commit["sha"], commit["session_id"], commit["exposure"]) == (
        AGENT_SHA,
        SESSION,
        "pending",
    )
    markdown = export(db, "INC-2", "md")
    section = markdown.split("## Agent-assisted\n\n", 1)[1].split("\n\n## ", 1)[0]
    assert section.startswith(f"- deploy {AGENT_SHA[:7]} of acme-payments/payments-api")
    assert f"  - {AGENT_SHA[:7]} by claude-code in session {SESSION}" in section
    page = export(db, "INC-2", "html")
    assert "<h2>Agent-assisted</h2>" in page and "not told (pending)" in page


def test_an_incident_the_join_does_not_flag_has_no_section(db: Path) -> None:
    record = json.loads(export(db, "INC-3", "json"))["incidents"][0]
    assert "agent_assisted" not in record
    assert "Agent-assisted" not in export(db, "INC-3", "md")
    assert "Agent-assisted" not in export(db, "INC-3", "html")
