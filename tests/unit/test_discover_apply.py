"""Discovery against a real store and a real git checkout, on a fixed clock.

Transcripts are written where each agent keeps them, shaped as ``tests/support/transcripts.py``
shows (sources cited there); the clock and the files' modification times are fixed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions import sessions as session_actions
from oncall_tui.agents.discover.apply import Outcome, discover
from oncall_tui.config import DiscoverSettings
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import FixedClock
from oncall_tui.store.journal import Store
from tests.integration.test_hook import BRANCH, make_repo
from tests.support import transcripts as t

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
RETRY = "services/processor/retry.py"


@dataclass
class Home:
    root: Path
    repo: Path
    store: Store
    clock: FixedClock

    @property
    def settings(self) -> DiscoverSettings:
        return DiscoverSettings(
            claude_projects=self.root / ".claude" / "projects",
            codex_sessions=self.root / ".codex" / "sessions",
            active_within_s=3600,
        )

    def claude(self, lines: list[str], modified: datetime = NOW) -> Path:
        return t.write_transcript(t.claude_path(self.root, self.repo), lines, modified)

    def codex(self, lines: list[str], modified: datetime = NOW) -> Path:
        return t.write_transcript(t.codex_path(self.root, modified), lines, modified)

    def journal_text(self) -> str:
        rows = self.store.conn.execute("SELECT actor, kind, body FROM journal").fetchall()
        return "\n".join(" ".join(map(str, row)) for row in rows)


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Home]:
    clock = FixedClock(NOW)
    store = Store.open(tmp_path / "oncall.db", clock)
    try:
        yield Home(tmp_path / "home", make_repo(tmp_path / "payments-api"), store, clock)
    finally:
        store.close()


def _ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def _claude_lines(repo: Path, at: datetime) -> list[str]:
    return [
        t.claude_summary(),
        t.claude_prompt(at - timedelta(seconds=30), str(repo)),
        t.claude_tool_use(
            at - timedelta(seconds=20), str(repo), "Edit", {"file_path": str(repo / RETRY)}
        ),
        t.claude_tool_result(at - timedelta(seconds=19), str(repo)),
        t.claude_tool_use(at, str(repo), "Read", {"file_path": "/etc/hosts"}),
    ]


def _codex_lines(repo: Path, at: datetime) -> list[str]:
    return [
        t.codex_meta(at - timedelta(minutes=5), str(repo / "services")),
        t.codex_message(at - timedelta(minutes=4)),
        t.codex_apply_patch(at, "processor/retry.py", "../docs/notes.md"),
        t.codex_tool_output(at),
    ]


def test_active_sessions_are_registered_as_discovered_with_repo_relative_paths(home: Home) -> None:
    home.claude(_claude_lines(home.repo, _ago(2)))
    home.codex(_codex_lines(home.repo, _ago(1)))

    report = discover(home.store, Rules(), home.settings)

    assert {f.session_id: f.outcome for f in report.found} == {
        t.CLAUDE_SESSION: Outcome.REGISTERED,
        t.CODEX_SESSION: Outcome.REGISTERED,
    }
    tables = home.store.tables()
    claude = tables.get_session(t.CLAUDE_SESSION)
    codex = tables.get_session(t.CODEX_SESSION)
    assert claude is not None and codex is not None
    assert (claude.agent, claude.source, claude.repo) == (
        AgentKind.CLAUDE_CODE,
        "discovered",
        "acme-payments/payments-api",
    )
    assert claude.branch == BRANCH  # what git says now, over what the transcript recorded
    assert claude.paths == [RETRY]  # /etc/hosts is outside the checkout
    assert claude.last_seen == _ago(2)  # when it was active, not when we looked
    assert (codex.agent, codex.source) == (AgentKind.CODEX, "discovered")
    assert codex.paths == [RETRY, "docs/notes.md"]  # relative to its cwd, then to the root
    assert t.SECRET not in home.journal_text()
    assert "leaked.py" not in home.journal_text()


def test_a_session_a_hook_registered_keeps_its_kind_and_is_only_heartbeated_when_newer(
    home: Home,
) -> None:
    session_actions.register(
        home.store, Rules(), t.CLAUDE_SESSION, agent=AgentKind.OTHER, cwd=str(home.repo)
    )
    home.claude(_claude_lines(home.repo, _ago(5)))

    (older,) = discover(home.store, Rules(), home.settings).found
    assert older.outcome is Outcome.UNCHANGED
    before = home.store.max_seq()

    home.clock.advance(120)
    home.claude(_claude_lines(home.repo, NOW + timedelta(seconds=60)), NOW + timedelta(seconds=60))
    (newer,) = discover(home.store, Rules(), home.settings).found

    assert newer.outcome is Outcome.HEARTBEAT
    session = home.store.tables().get_session(t.CLAUDE_SESSION)
    assert session is not None
    assert (session.agent, session.source) == (AgentKind.OTHER, None)
    assert session.paths == [RETRY]
    kinds = home.store.conn.execute("SELECT kind FROM journal WHERE seq > ?", (before,)).fetchall()
    assert kinds == [("session.seen",)]
    # Seen now, so the same transcript is news no more.
    (again,) = discover(home.store, Rules(), home.settings).found
    assert again.outcome is Outcome.UNCHANGED


def test_old_transcripts_are_not_read_and_stale_activity_is_not_registered(home: Home) -> None:
    home.claude(_claude_lines(home.repo, _ago(120)), modified=_ago(90))
    home.codex(_codex_lines(home.repo, _ago(180)), modified=_ago(1))  # touched, nothing new

    (found,) = discover(home.store, Rules(), home.settings).found

    assert (found.session_id, found.outcome) == (t.CODEX_SESSION, Outcome.INACTIVE)
    assert home.store.tables().get_session(t.CODEX_SESSION) is None


def test_a_dry_run_writes_nothing(home: Home) -> None:
    home.claude(_claude_lines(home.repo, _ago(2)))
    before = home.store.max_seq()

    report = discover(home.store, Rules(), home.settings, dry_run=True)

    assert [f.outcome for f in report.found] == [Outcome.REGISTERED]
    assert home.store.max_seq() == before


def test_garbage_and_truncated_transcripts_are_skipped(home: Home) -> None:
    home.claude(["\x00garbage", "{not json"])
    cut = t.codex_meta(_ago(1), str(home.repo))[:50]  # the header itself cut short
    home.codex([cut, t.codex_apply_patch(_ago(1), RETRY)])
    other = t.claude_path(home.root, home.repo, "c1d2e3f4-0000-4000-8000-000000000001")
    t.write_transcript(other, [*_claude_lines(home.repo, _ago(3)), '{"type": "assist'], NOW)

    report = discover(home.store, Rules(), home.settings)

    assert report.skipped_files == 2
    assert report.skipped_lines == 4
    # The third file's own lines name the session (sessionId), whatever the file is called.
    assert [f.session_id for f in report.found] == [t.CLAUDE_SESSION]


def test_a_cwd_outside_any_checkout_registers_without_repo_or_paths(
    home: Home, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "scratch"
    elsewhere.mkdir()
    git = {"branch": "main", "repository_url": "https://github.com/acme/tools.git"}
    home.codex([t.codex_meta(_ago(2), str(elsewhere), git), t.codex_apply_patch(_ago(1), "x.py")])

    (found,) = discover(home.store, Rules(), home.settings).found

    assert (found.repo, found.branch, found.paths) == ("acme/tools", "main", [])


def test_a_caller_scanning_again_reads_only_the_files_that_changed(home: Home) -> None:
    path = home.claude(_claude_lines(home.repo, _ago(2)))
    read_before: dict[Path, float] = {}

    first = discover(home.store, Rules(), home.settings, read_before=read_before)
    second = discover(home.store, Rules(), home.settings, read_before=read_before)
    home.claude(_claude_lines(home.repo, NOW), modified=NOW + timedelta(seconds=1))
    third = discover(home.store, Rules(), home.settings, read_before=read_before)

    assert [f.outcome for f in first.found] == [Outcome.REGISTERED]
    assert second.found == []
    assert [f.outcome for f in third.found] == [Outcome.HEARTBEAT]  # active since registered
    assert list(read_before) == [path]
    home.clock.advance(7200)  # the window moved past it: forgotten
    discover(home.store, Rules(), home.settings, read_before=read_before)
    assert read_before == {}
