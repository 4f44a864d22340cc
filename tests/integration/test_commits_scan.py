"""The trailer scan: commits signed by an agent, found with git log in a session's checkout and
tied to the session of that agent kind active when they were authored.

Trailers are written as GitHub documents several authors (a blank line, then
``Co-authored-by: NAME <EMAIL>``:
https://docs.github.com/en/pull-requests/committing-changes-to-your-project/creating-and-editing-commits/creating-a-commit-with-multiple-authors).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions.sessions import heartbeat, register
from oncall_tui.agents.commits.scan import scan_trailers
from oncall_tui.config import DEFAULT_AGENT_TRAILERS
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.commits import CommitSource
from oncall_tui.store.commits import all_commits, commits_by_sha
from oncall_tui.store.journal import Store
from tests.support.git_repos import CLAUDE_TRAILER, commit, init_repo

REPO = "acme-payments/payments-api"
COPILOT_TRAILER = "Co-authored-by: Copilot <175728472+Copilot@users.noreply.github.com>"


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 23, hour, minute, tzinfo=UTC)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(at(11, 30))


@pytest.fixture
def store(tmp_path: Path, clock: FixedClock) -> Iterator[Store]:
    opened = Store.open(tmp_path / "oncall.db", clock)
    yield opened
    opened.close()


@pytest.fixture
def checkout(tmp_path: Path, store: Store, clock: FixedClock) -> dict[str, str]:
    """A repo worked on by a Claude Code session (11:30-11:42) and a Codex one (11:00-12:00)."""
    root = init_repo(tmp_path / "payments-api")
    rules = Rules()
    shas = {
        "human": commit(root, "Tune logging", {"log.py": "1\n"}, at="2026-11-23T10:00:00Z"),
        "claude": commit(
            root,
            "Drop the processor timeout",
            {"services/payments/client.py": "TIMEOUT = None\n"},
            at="2026-11-23T11:40:00Z",
            trailer=CLAUDE_TRAILER,
        ),
        "later": commit(
            root,
            "Add retries",
            {"services/payments/retry.py": "RETRIES = 3\n"},
            at="2026-11-23T13:00:00Z",
            trailer=COPILOT_TRAILER,
        ),
    }
    clock.set(at(11, 0))
    register(store, rules, "codex-1", agent=AgentKind.CODEX, repo=REPO, cwd=str(root))
    clock.set(at(11, 30))
    register(store, rules, "claude-1", agent=AgentKind.CLAUDE_CODE, repo=REPO, cwd=str(root))
    clock.set(at(11, 42))
    heartbeat(store, rules, "claude-1")
    clock.set(at(12, 0))
    heartbeat(store, rules, "codex-1")
    clock.set(at(14, 0))
    shas["root"] = str(root)
    return shas


def test_a_signed_commit_goes_to_the_session_of_its_agent(
    store: Store, checkout: dict[str, str]
) -> None:
    report = scan_trailers(store, DEFAULT_AGENT_TRAILERS)
    assert report.checkouts == [REPO]
    (found,) = report.recorded
    assert found.sha == checkout["claude"]
    stored = commits_by_sha(store.conn, [checkout["claude"], checkout["human"]])
    assert set(stored) == {checkout["claude"]}, "a commit without a trailer is nobody's"
    claude = stored[checkout["claude"]]
    assert (claude.session_id, claude.agent, claude.source) == (
        "claude-1",
        "claude-code",
        CommitSource.TRAILER,
    )
    assert claude.trailer == CLAUDE_TRAILER and claude.subject == "Drop the processor timeout"
    assert claude.files == ("services/payments/client.py",)

    assert scan_trailers(store, DEFAULT_AGENT_TRAILERS).recorded == [], "a rescan adds nothing"


def test_a_signed_commit_outside_every_session_keeps_its_agent(
    store: Store, checkout: dict[str, str]
) -> None:
    scan_trailers(store, DEFAULT_AGENT_TRAILERS, checkout=Path(checkout["root"]))
    later = commits_by_sha(store.conn, [checkout["later"]])[checkout["later"]]
    assert (later.session_id, later.agent, later.trailer) == (None, "copilot", COPILOT_TRAILER)


def test_configured_patterns_replace_the_defaults(store: Store, checkout: dict[str, str]) -> None:
    scan_trailers(store, ["Co-authored-by: .*Copilot"], checkout=Path(checkout["root"]))
    assert [c.sha for c in all_commits(store.conn)] == [checkout["later"]]


def test_the_scan_command(tmp_path: Path, store: Store, checkout: dict[str, str]) -> None:
    store.close()
    done = subprocess.run(
        [sys.executable, "-m", "oncall_tui", "--db", str(tmp_path / "oncall.db"), "commits"]
        + ["scan", "--repo", checkout["root"], "--since", "2026-11-23T00:00Z", "--json"],
        capture_output=True,
        timeout=60,
        check=False,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "ONCALL_TUI_CONFIG": "/dev/null"},
    )
    assert done.returncode == 0, done.stderr.decode()
    found = {c["sha"]: c for c in json.loads(done.stdout)}
    assert set(found) == {checkout["claude"], checkout["later"]}
    assert found[checkout["claude"]]["session_id"] == "claude-1"
