"""A regression an agent's commit set off, played on a fixed clock through the real actions: the
input of the ``report regressions`` goldens and of the e2e checks.

11:50 a Claude Code session starts on ``services/payments/client.py``. 11:54 the processor
fails (INC-1, payment-processor): a push to the session is proposed and waits for approval. At
12:03 the guard asks about the file, at 12:04 the engineer lets it be written, and at 12:05 the
agent commits "drop the processor timeout" (Co-Authored-By trailer). INC-1 resolves at 12:10;
12:20 GitHub reports the deploy of that sha (with one human commit in the range); 12:30
payments-api alerts: INC-2, whose suspect change is that deploy. In the same hour a deploy of
search made of human commits only precedes an alert on search (INC-3): not agent-assisted.

``told=True`` plays it with the push approved and printed by the session's hook at 11:58, before
the commit.

Payload shapes: GitHub ``deployment_status`` as documented at
https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_status, Alertmanager
webhook as documented at
https://prometheus.io/docs/alerting/latest/configuration/#webhook_config (both from the
``sample_data`` files, with the sha, ids, service and times of this story).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from oncall_tui.actions import Rules
from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions import sessions as session_actions
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.incidents import change_incident_state
from oncall_tui.config import Settings
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.commits import Commit, CommitSource, DeployRange
from oncall_tui.core.journal import CommitRecorded, DeployRangeResolved, GuardDecided
from oncall_tui.core.models import IncidentState
from oncall_tui.demo.command import demo_settings
from oncall_tui.demo.scenario import SAMPLE_DATA
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store

START = datetime(2026, 11, 23, 11, 50, tzinfo=UTC)
REPO = "acme-payments/payments-api"
SESSION = "cc-payments-timeout"
AGENT_SHA = "7d1e5a9c3b2f4e6a8c0d1f3b5a7c9e2d4f6b8a01"
HUMAN_SHA = "2b4d6f8a0c1e3a5c7e9b1d3f5a7c9e1b3d5f7a92"
PREVIOUS_SHA = "9f4c2e1b7a3d5f60c8e2b9a14d7f3c6e0a5b8d21"
SEARCH_SHA = "5c3a1e9f7d5b3a1c9e7f5d3b1a9c7e5f3d1b9a73"
SEARCH_PREVIOUS = "0e2c4a6f8d0b2e4c6a8f0d2b4e6c8a0f2d4b6e84"
TRAILER = "Co-Authored-By: Claude <noreply@anthropic.com>"
WINDOW = ("2026-11-16T00:00Z", "2026-11-29T23:59Z")
"""``--since``/``--until`` of the goldens: the story's week and the week before (a zero row)."""


def _at(minutes: int, seconds: int = 0) -> datetime:
    return START + timedelta(minutes=minutes, seconds=seconds)


def _stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def deployment_status(
    sha: str, repo: str, deployment_id: int, when: datetime, delivery: str
) -> tuple[bytes, dict[str, str]]:
    """The sample ``deployment_status`` event, retargeted to ``sha`` of ``repo`` at ``when``."""
    body: dict[str, Any] = json.loads(
        (SAMPLE_DATA / "github" / "deployment_status_success.json").read_text()
    )
    owner, name = repo.split("/")
    body["deployment"].update(id=deployment_id, sha=sha, created_at=_stamp(when))
    body["deployment_status"].update(
        id=deployment_id * 10, created_at=_stamp(when), updated_at=_stamp(when)
    )
    body["repository"].update(name=name, full_name=repo)
    body["repository"]["owner"]["login"] = owner
    headers = json.loads(
        (SAMPLE_DATA / "github" / "deployment_status_success.headers.json").read_text()
    )
    headers["X-GitHub-Delivery"] = delivery
    return json.dumps(body).encode(), headers


def alert(service: str, name: str, when: datetime) -> bytes:
    """The sample Alertmanager ``firing`` webhook, one alert, on ``service`` from ``when``."""
    body: dict[str, Any] = json.loads((SAMPLE_DATA / "alertmanager" / "firing.json").read_text())
    first = copy.deepcopy(body["alerts"][0])
    first["labels"].update(alertname=name, service=service, job=f"{service}-prod")
    first["annotations"]["summary"] = f"{service} 5xx ratio above 5% in prod"
    first["startsAt"] = _stamp(when)
    first["fingerprint"] = hashlib.sha256(f"{service}/{name}".encode()).hexdigest()[:16]
    body.update(alerts=[first], commonLabels=first["labels"])
    body["groupLabels"] = {"alertname": name}
    body["groupKey"] = f'{{}}:{{alertname="{name}"}}'
    return json.dumps(body).encode()


class RegressionStory:
    def __init__(self, workdir: Path) -> None:
        self.settings: Settings = demo_settings(workdir)
        self.clock = FixedClock(START)
        self.store = Store.open(self.settings.db, self.clock)
        self.rules = Rules.from_settings(self.settings)
        self.ingestor = Ingestor(self.store, self.settings)

    def ingest(self, source: str, body: bytes, headers: dict[str, str] | None = None) -> list[str]:
        result = self.ingestor.ingest(source, body, headers or {}, verify="none")
        assert result.http_status < 300, result.reason
        return result.incidents

    def deploy(self, sha: str, repo: str, deployment_id: int, delivery: str) -> int:
        body, headers = deployment_status(sha, repo, deployment_id, self.clock.now(), delivery)
        self.ingest("github", body, headers)
        row = self.store.conn.execute(
            "SELECT id FROM signals WHERE alert_key = ?", (f"github:deployment:{deployment_id}",)
        ).fetchone()
        return int(row[0])

    def record_range(self, deploy: DeployRange) -> None:
        with self.store.write() as writer:
            writer.append(DeployRangeResolved(deploy), actor="system:deploys")

    def record_commit(self, commit: Commit) -> None:
        with self.store.write() as writer:
            writer.append(CommitRecorded(commit), actor=f"agent:{commit.session_id or 'scan'}")

    def guard(self, decision: str) -> None:
        with self.store.write() as writer:
            writer.append(
                GuardDecided(
                    SESSION,
                    "INC-1",
                    decision,
                    "edit",
                    ["services/payments/client.py"],
                    "payments-api",
                    AgentKind.CLAUDE_CODE.value,
                ),
                actor=f"agent:{SESSION}",
            )


def play_regression(workdir: Path, *, told: bool = False) -> Settings:
    """Play the story into ``workdir``; returns the settings (the DB is closed)."""
    story = RegressionStory(workdir)
    load_catalog_file(story.store, story.rules, SAMPLE_DATA / "catalog.yaml", "user:test")
    steps: list[tuple[datetime, Callable[[], object]]] = [
        (
            _at(0),
            lambda: session_actions.register(
                story.store,
                story.rules,
                SESSION,
                agent=AgentKind.CLAUDE_CODE,
                repo=REPO,
                paths=["services/payments/client.py"],
            ),
        ),
        (
            _at(4, 30),
            lambda: story.ingest(
                "alertmanager", alert("payment-processor", "ProcessorErrors", _at(4))
            ),
        ),
    ]
    if told:
        steps += [
            (_at(8), lambda: _approve_and_print(story)),
        ]
    steps += [
        (_at(13), lambda: story.guard("asked")),
        (_at(14), lambda: story.guard("allowed-after-ask")),
        (
            _at(15),
            lambda: story.record_commit(
                Commit(
                    sha=AGENT_SHA,
                    repo=REPO,
                    authored_at=_at(15),
                    subject="Drop the 2 s processor timeout: retries handle it",
                    files=("services/payments/client.py",),
                    parents=(HUMAN_SHA,),
                    session_id=SESSION,
                    agent=AgentKind.CLAUDE_CODE.value,
                    source=CommitSource.HOOK,
                    trailer=TRAILER,
                )
            ),
        ),
        (
            _at(20),
            lambda: change_incident_state(
                story.store, "INC-1", IncidentState.RESOLVED, "user:alice", story.rules, "recovered"
            ),
        ),
        (_at(30), lambda: _deploy_payments(story)),
        (
            _at(40),
            lambda: story.ingest(
                "alertmanager", alert("payments-api", "PaymentsApiErrors", _at(40))
            ),
        ),
        (_at(45), lambda: _deploy_search(story)),
        (_at(52), lambda: story.ingest("alertmanager", alert("search", "SearchErrors", _at(52)))),
    ]
    for when, action in steps:
        story.clock.set(when)
        action()
    story.store.close()
    return story.settings


def _approve_and_print(story: RegressionStory) -> None:
    [pending] = story.store.tables().pending_pushes_for_session(SESSION)
    push_actions.approve(story.store, pending.id, "user:alice", story.rules)
    push_actions.record_delivery(story.store, SESSION, [pending.id], "hook", story.store.max_seq())


def _deploy_payments(story: RegressionStory) -> None:
    story.record_commit(
        Commit(
            sha=HUMAN_SHA,
            repo=REPO,
            authored_at=_at(2),
            subject="Bump the ledger client",
            files=("libs/payments-client/version.py",),
            parents=(PREVIOUS_SHA,),
        )
    )
    signal_id = story.deploy(AGENT_SHA, REPO, 1873500001, "d0000001-0000-4000-8000-000000000001")
    story.record_range(
        DeployRange(
            signal_id, "payments-api", REPO, AGENT_SHA, PREVIOUS_SHA, (AGENT_SHA, HUMAN_SHA)
        )
    )


def _deploy_search(story: RegressionStory) -> None:
    story.record_commit(
        Commit(
            sha=SEARCH_SHA,
            repo="acme/search",
            authored_at=_at(35),
            subject="Tune the ranking weights",
            files=("ranking/weights.py",),
            parents=(SEARCH_PREVIOUS,),
        )
    )
    signal_id = story.deploy(
        SEARCH_SHA, "acme/search", 1873500002, "d0000002-0000-4000-8000-000000000002"
    )
    story.record_range(
        DeployRange(signal_id, "search", "acme/search", SEARCH_SHA, SEARCH_PREVIOUS, (SEARCH_SHA,))
    )
