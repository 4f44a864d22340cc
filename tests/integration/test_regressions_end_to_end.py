"""Agent-assisted regressions end to end, every step through the real part.

A Claude Code session starts in a real checkout of acme-payments/payments-api while INC-1
(payment-processor) is pending a push; it edits ``services/payments/client.py`` and runs
``git commit`` with a ``Co-Authored-By: Claude`` trailer, and its hook (the real
``oncall-tui hook claude-code`` process, fed the hook JSON Claude Code sends, fields per
https://docs.anthropic.com/en/docs/claude-code/hooks) records the commit. GitHub then reports
the deploy of that sha (``deployment_status``, shaped as
https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_status shows it,
from ``sample_data/github``), ``oncall-tui commits resolve`` reads the range from the checkout
(``[repos]`` in the config file), and ten minutes after the deploy payments-api alerts
(Alertmanager webhook as https://prometheus.io/docs/alerting/latest/configuration/#webhook_config
shows it). ``oncall-tui report regressions`` must name the incident, the session, the commit and
what the session knew when it committed.

The hook runs on the wall clock, so the story's times are set from the session's own start:
the commit a second after the last hook call (``GIT_AUTHOR_DATE``), then the store's injected
clock for the deploy and the alert (their ``created_at`` and ``startsAt``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.actions.incidents import change_incident_state
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.models import IncidentState
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from tests.integration.regressions_story import alert, deployment_status
from tests.integration.test_commits_hook import bash_done
from tests.integration.test_hook import REMOTE, SESSION, World
from tests.support.agent_hooks import make_world
from tests.support.environment import without_our_variables
from tests.support.git_repos import CLAUDE_TRAILER, commit, git

REPO = "acme-payments/payments-api"
CLIENT = "services/payments/client.py"
CLI_TIMEOUT_S = 60


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    for made in make_world(tmp_path):
        git(made.repo, "config", "user.name", "Dev")
        git(made.repo, "config", "user.email", "dev@example.com")
        started = made.hook(made.event("SessionStart", source="startup"))
        assert (started.returncode, started.stderr) == (0, "")
        yield made


def cli(world: World, *args: str) -> str:
    """``oncall-tui --config ... --db ... ARGS`` as a process; its stdout."""
    config = world.db.parent / "config.toml"
    config.write_text(f'[repos]\n"{REPO}" = {json.dumps(str(world.repo))}\n')
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--config", str(config), "--db", str(world.db), *args],
        capture_output=True,
        text=True,
        timeout=CLI_TIMEOUT_S,
        env=without_our_variables(),
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def _minute(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%MZ")


def commit_now(world: World, message: str, text: str, trailer: str | None) -> tuple[str, datetime]:
    """Commit ``CLIENT`` a second after now (whole seconds, as git keeps them)."""
    at = (datetime.now(UTC) + timedelta(seconds=1)).replace(microsecond=0)
    return commit(world.repo, message, {CLIENT: text}, at=_iso(at), trailer=trailer), at


def ship_and_alert(world: World, sha: str, committed: datetime) -> dict[str, Any]:
    """INC-1 recovers, the sha is deployed, its range resolved, payments-api alerts ten minutes
    after the deploy; the ``report regressions`` JSON around it."""
    clock = FixedClock(committed + timedelta(minutes=2))
    store = Store.open(world.db, clock)
    try:
        change_incident_state(
            store, "INC-1", IncidentState.RESOLVED, "user:alice", world.rules, "recovered"
        )
        ingestor = Ingestor(store, Settings(db=world.db))
        deployed = committed + timedelta(minutes=5)
        clock.set(deployed)
        body, headers = deployment_status(sha, REPO, 1873500101, deployed, "e2e-delivery-1")
        assert ingestor.ingest("github", body, headers, verify="none").http_status < 300
        resolved = json.loads(cli(world, "commits", "resolve", "--json"))
        assert [(r["sha"], r["service"]) for r in resolved] == [(sha, "payments-api")]
        alerted = deployed + timedelta(minutes=10)
        clock.set(alerted + timedelta(seconds=30))
        opened = ingestor.ingest(
            "alertmanager", alert("payments-api", "PaymentsApiErrors", alerted), {}, verify="none"
        )
        assert opened.incidents == ["INC-2"], opened
    finally:
        store.close()
    window = (
        "--since",
        _minute(committed - timedelta(hours=1)),
        "--until",
        _minute(committed + timedelta(hours=1)),
    )
    table = cli(world, "report", "regressions", *window)
    document: dict[str, Any] = json.loads(
        cli(world, "report", "regressions", "--format", "json", *window)
    )
    document["table"] = table
    return document


def agent_commits(world: World) -> tuple[str, datetime]:
    """The session edits the client and commits it, signed; its hook sees the commit."""
    edit = world.hook(world.edit(CLIENT))
    assert edit.returncode == 0, edit.stderr
    sha, at = commit_now(world, "Drop the processor timeout", "TIMEOUT = None\n", CLAUDE_TRAILER)
    done = world.hook(bash_done(world, 'git commit -am "Drop the processor timeout"'))
    assert (done.returncode, done.stderr) == (0, "")
    return sha, at


def test_a_commit_made_while_the_push_was_pending_is_flagged_not_told(world: World) -> None:
    assert REMOTE.endswith(f"{REPO}.git")
    sha, at = agent_commits(world)

    document = ship_and_alert(world, sha, at)

    [flagged] = document["agent_assisted"]
    assert (flagged["incident_id"], flagged["service"]) == ("INC-2", "payments-api")
    [deploy] = flagged["deploys"]
    assert deploy["sha"] == sha and deploy["human_commits"] == 1, "the checkout's first commit"
    [found] = deploy["commits"]
    assert (found["sha"], found["session_id"], found["agent"]) == (sha, SESSION, "claude-code")
    assert (found["source"], found["files"]) == ("hook", [CLIENT])
    assert found["trailer"] == CLAUDE_TRAILER
    assert found["exposure"] == "pending" and found["push_id"] == "P-1"
    assert "not told (pending)" in document["table"] and SESSION in document["table"]


def test_an_approved_push_read_by_the_hook_before_the_commit_says_told(world: World) -> None:
    assert world.approve_pending() == ["P-1"]
    read = world.hook(world.event("UserPromptSubmit", prompt="drop the processor timeout"))
    assert read.stdout.startswith(f"# Production update for session {SESSION}")
    sha, at = agent_commits(world)

    document = ship_and_alert(world, sha, at)

    [flagged] = document["agent_assisted"]
    [found] = flagged["deploys"][0]["commits"]
    assert (found["sha"], found["exposure"], found["push_id"]) == (sha, "told", "P-1")
    assert "told" in document["table"] and "pending" not in document["table"]


def test_a_deploy_of_human_commits_only_is_not_flagged(world: World) -> None:
    sha, at = commit_now(world, "Tune the client pool", "POOL = 8\n", trailer=None)

    document = ship_and_alert(world, sha, at)

    assert document["agent_assisted"] == [] and document["incidents"] == 1
    assert sha not in json.dumps(document)
