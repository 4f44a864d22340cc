"""Deploys to commits: a GitHub ``deployment_status`` names the sha, and the range since the
service's previous deploy comes from a local clone (``git rev-list``) or from the GitHub compare
API, here a recorded response served by a real HTTP server on 127.0.0.1.

The deliveries are ``sample_data/github/deployment_status_success.json`` (shaped as GitHub's
webhook docs show the event:
https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_status) with their
sha, ids and times changed; the compare response is shaped as
https://docs.github.com/en/rest/commits/commits#compare-two-commits shows it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from oncall_tui.agents.commits.deploys import resolve_deploys
from oncall_tui.agents.commits.loop import commits_round
from oncall_tui.agents.commits.record import record_commits
from oncall_tui.config import GitHubApiSettings, ReposSettings, Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.commits import Commit, CommitSource
from oncall_tui.core.journal import Kind
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.commits import all_deploy_ranges, commits_by_sha, deploy_ranges
from oncall_tui.store.journal import Store
from tests.support.git_repos import CLAUDE_TRAILER, commit, init_repo
from tests.support.samples import sample, sample_headers

REPO = "acme-payments/payments-api"
FIXTURES = Path(__file__).parent.parent / "fixtures" / "github"
BASE, AGENT, HEAD = (
    "0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d",
    "5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f",
    "9f4c2e1b7a3d5f60c8e2b9a14d7f3c6e0a5b8d21",
)
TOKEN = "ghp_recorded0000000000000000000000000000"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(tmp_path / "oncall.db", FixedClock(datetime(2026, 11, 23, 14, tzinfo=UTC)))
    yield opened
    opened.close()


def deploy(store: Store, sha: str, number: int, at: str) -> int:
    """Ingest the deployment_status sample for ``sha`` (deployment ``number``); its signal id."""
    body: dict[str, Any] = json.loads(sample("github/deployment_status_success.json").read_text())
    body["deployment"].update(sha=sha, id=1873421900 + number, updated_at=at)
    body["deployment_status"].update(id=3951234800 + number, created_at=at, updated_at=at)
    headers = sample_headers("github/deployment_status_success.headers.json")
    headers["X-GitHub-Delivery"] = f"delivery-{number}"
    result = Ingestor(store, Settings(db=store.path)).ingest(
        "github", json.dumps(body).encode(), headers, verify="none"
    )
    assert result.signals, result
    (row,) = store.conn.execute(
        "SELECT id FROM signals WHERE alert_key = ?", (f"github:deployment:{1873421900 + number}",)
    ).fetchall()
    return int(row[0])


def test_ranges_from_a_local_clone(tmp_path: Path, store: Store) -> None:
    clone = init_repo(tmp_path / "clone")
    first = commit(clone, "Initial import", {"README.md": "x\n"}, at="2026-11-23T09:00:00Z")
    agent = commit(
        clone,
        "Drop the processor timeout",
        {"services/payments/client.py": "TIMEOUT = None\n"},
        at="2026-11-23T11:40:00Z",
        trailer=CLAUDE_TRAILER,
    )
    release = commit(clone, "Release", {"VERSION": "3\n"}, at="2026-11-23T11:45:00Z")
    human = commit(clone, "Docs", {"README.md": "y\n"}, at="2026-11-23T12:30:00Z")
    record_commits(
        store,
        [
            Commit(
                agent,
                REPO,
                datetime(2026, 11, 23, 11, 40, tzinfo=UTC),
                session_id="claude-1",
                agent="claude-code",
                source=CommitSource.HOOK,
            )
        ],
        actor="agent:claude-1",
    )
    ids = [
        deploy(store, first, 1, "2026-11-23T10:00:00Z"),
        deploy(store, release, 2, "2026-11-23T11:50:00Z"),
        deploy(store, human, 3, "2026-11-23T12:40:00Z"),
    ]
    repos = ReposSettings.model_validate({REPO: str(clone)})

    report = resolve_deploys(store, repos)
    assert [d.signal_id for d in report.resolved] == ids
    ranges = deploy_ranges(store.conn, ids)
    assert (ranges[ids[0]].previous_sha, ranges[ids[0]].shas) == (None, (first,))
    assert ranges[ids[1]].previous_sha == first
    assert ranges[ids[1]].shas == (release, agent), "newest first, the previous deploy excluded"
    assert (ranges[ids[1]].service, ranges[ids[1]].repo, ranges[ids[1]].via) == (
        "payments-api",
        REPO,
        "git",
    )
    agents = commits_by_sha(store.conn, ranges[ids[1]].shas)
    assert [c.session_id for c in agents.values()] == ["claude-1"]
    human_only = commits_by_sha(store.conn, ranges[ids[2]].shas)
    assert ranges[ids[2]].shas == (human,) and all(
        c.session_id is None for c in human_only.values()
    )

    assert resolve_deploys(store, repos).resolved == [], "each deploy is resolved once"
    kinds = store.conn.execute(
        "SELECT count(*) FROM journal WHERE kind = ?", (Kind.DEPLOY_RANGE_RESOLVED,)
    ).fetchone()
    assert kinds == (3,)


def test_a_deploy_without_a_clone_or_token_waits(store: Store) -> None:
    deploy(store, HEAD, 1, "2026-11-23T11:50:00Z")
    report = resolve_deploys(store, ReposSettings())
    assert report.resolved == [] and len(report.unresolved) == 1


class _RecordedGitHub(BaseHTTPRequestHandler):
    """The two API calls a range needs, answered from recorded responses."""

    seen: list[tuple[str, str | None]] = []

    def do_GET(self) -> None:  # noqa: N802 (the name http.server calls)
        self.seen.append((self.path, self.headers.get("Authorization")))
        if self.headers.get("Authorization") != f"Bearer {TOKEN}":
            self._answer(401, {"message": "Bad credentials"})
        elif self.path == f"/api/v3/repos/{REPO}/compare/{BASE}...{HEAD}":
            self._answer(200, json.loads((FIXTURES / "compare.json").read_text()))
        elif self.path.startswith(f"/api/v3/repos/{REPO}/commits?sha={BASE}"):
            self._answer(200, [{"sha": BASE, "parents": []}])
        else:
            self._answer(404, {"message": "Not Found"})

    def _answer(self, status: int, data: object) -> None:
        body = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def github() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RecordedGitHub)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _RecordedGitHub.seen = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/api/v3"
    finally:
        server.shutdown()
        server.server_close()


def test_ranges_from_the_github_compare_api(store: Store, github: str) -> None:
    ids = [
        deploy(store, BASE, 1, "2026-11-23T10:00:00Z"),
        deploy(store, HEAD, 2, "2026-11-23T11:50:00Z"),
    ]
    repos = ReposSettings(github=GitHubApiSettings(token=SecretStr(TOKEN), api_url=github))

    report = resolve_deploys(store, repos)
    assert [d.signal_id for d in report.resolved] == ids
    first, second = all_deploy_ranges(store.conn)
    assert (first.shas, first.via) == ((BASE,), "github")
    assert (second.previous_sha, second.shas, second.via) == (BASE, (HEAD, AGENT), "github")
    assert all(auth == f"Bearer {TOKEN}" for _, auth in _RecordedGitHub.seen)


def test_a_refused_token_leaves_the_deploy_unresolved(store: Store, github: str) -> None:
    deploy(store, BASE, 1, "2026-11-23T10:00:00Z")
    repos = ReposSettings(github=GitHubApiSettings(token=SecretStr("wrong"), api_url=github))
    assert resolve_deploys(store, repos).resolved == []


def test_the_serve_round_resolves_a_new_deploy(tmp_path: Path, store: Store) -> None:
    """What ``serve`` runs every ``[commits] interval_s``, outside the receiver's transaction."""
    clone = init_repo(tmp_path / "clone")
    sha = commit(clone, "Initial import", {"README.md": "x\n"}, at="2026-11-23T09:00:00Z")
    signal_id = deploy(store, sha, 1, "2026-11-23T10:00:00Z")
    assert deploy_ranges(store.conn, [signal_id]) == {}, "the receiver's path resolves nothing"
    settings = Settings(db=store.path, repos=ReposSettings.model_validate({REPO: str(clone)}))
    commits_round(store, settings)
    assert deploy_ranges(store.conn, [signal_id])[signal_id].shas == (sha,)
