"""``oncall-tui sessions discover`` records the commits a session's shell calls made.

Nothing is mocked: a fake HOME holds a Claude Code transcript whose assistant line has a
``Bash`` ``tool_use`` running ``git commit`` (its ``input`` is the tool input the hooks page
shows for Bash, ``command`` and ``description``: https://code.claude.com/docs/en/hooks), and a
Codex rollout whose ``shell`` function call runs it (``arguments`` is the JSON of
``ShellToolCallParams``, ``command`` an argv and ``workdir``: ``openai/codex``
``codex-rs/protocol/src/models.rs``); line shapes come from ``tests/support/transcripts.py``
(sources cited there). A real git checkout holds commits dated with ``GIT_AUTHOR_DATE`` and
``GIT_COMMITTER_DATE``, and the real CLI runs as a process.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.integration.test_hook import World
from tests.support import transcripts as t
from tests.support.agent_hooks import make_world

BASH_COMMIT = {"command": 'git commit -am "Retry less"', "description": "Commit the fix"}


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path)


def _commit_at(repo: Path, when: datetime, subject: str) -> str:
    """A commit authored and committed at ``when``; its sha."""
    (repo / "services" / "processor" / "retry.py").write_text(f"# {subject}\n")
    stamp = when.isoformat()
    env = {**os.environ, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    identity = ["-c", "user.name=Dev", "-c", "user.email=dev@example.com"]
    subprocess.run(
        ["git", "-C", str(repo), *identity, "commit", "-qam", subject],
        check=True,
        capture_output=True,
        env=env,
        timeout=30,
    )
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", "HEAD"], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


def _cli(world: World, home: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "oncall_tui",
            "--db",
            str(world.db),
            "sessions",
            "discover",
            "--json",
        ],
        capture_output=True,
        text=True,
        cwd=world.db.parent,
        env={**os.environ, "HOME": str(home)},
        timeout=60,
        check=False,
    )


def _recorded(world: World) -> dict[str, dict[str, Any]]:
    """The ``commit.recorded`` entries' commits, by sha."""
    rows = world.rows("SELECT body FROM journal WHERE kind = 'commit.recorded'")
    commits = [json.loads(body) for (body,) in rows]
    return {c["sha"]: c for c in commits}


def _journal(world: World) -> str:
    return "\n".join(" ".join(map(str, r)) for r in world.rows("SELECT actor, body FROM journal"))


def test_a_bash_git_commit_in_a_claude_transcript_records_the_commit_it_made(world: World) -> None:
    home = world.db.parent / "home"
    now = datetime.now(UTC).replace(microsecond=0)
    call = now - timedelta(minutes=10)
    repo = str(world.repo)
    before = _commit_at(world.repo, call - timedelta(minutes=5), "Human change")
    made = _commit_at(world.repo, call + timedelta(seconds=3), "Retry less")
    t.write_transcript(
        t.claude_path(home, world.repo),
        [
            t.claude_prompt(call - timedelta(seconds=30), repo),
            t.claude_tool_use(call, repo, "Bash", BASH_COMMIT),
            t.claude_tool_result(call + timedelta(seconds=4), repo),
        ],
        now,
    )

    done = _cli(world, home)

    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["commits_recorded"] == [
        {"sha": made, "repo": "acme-payments/payments-api", "session": t.CLAUDE_SESSION}
    ]
    recorded = _recorded(world)
    assert set(recorded) == {made} and before not in recorded
    assert recorded[made]["source"] == "transcript"
    assert recorded[made]["session_id"] == t.CLAUDE_SESSION
    assert recorded[made]["agent"] == "claude-code"
    assert recorded[made]["subject"] == "Retry less"
    # Message text and tool output carry the marker; none of it reaches the journal.
    assert t.SECRET not in _journal(world)
    assert t.SECRET not in done.stdout + done.stderr

    seq = world.rows("SELECT MAX(seq) FROM journal")
    again = _cli(world, home)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["commits_recorded"] == []
    assert world.rows("SELECT MAX(seq) FROM journal") == seq


def test_a_shell_call_in_a_codex_rollout_records_the_commit_it_made(world: World) -> None:
    home = world.db.parent / "home"
    now = datetime.now(UTC).replace(microsecond=0)
    call = now - timedelta(minutes=20)
    made = _commit_at(world.repo, call + timedelta(seconds=2), "Tune the backoff")
    arguments = json.dumps({"command": ["bash", "-lc", "git commit -am 'Tune'"], "workdir": "."})
    shell = {"type": "function_call", "name": "shell", "arguments": arguments, "call_id": "c7"}
    t.write_transcript(
        t.codex_path(home, now),
        [
            t.codex_meta(call - timedelta(minutes=1), str(world.repo)),
            t.codex_message(call - timedelta(seconds=30)),
            t.codex_item(call, shell),
            t.codex_tool_output(call + timedelta(seconds=3)),
        ],
        now,
    )

    done = _cli(world, home)

    assert done.returncode == 0, done.stderr
    recorded = _recorded(world)
    assert set(recorded) == {made}
    assert recorded[made]["source"] == "transcript"
    assert recorded[made]["session_id"] == t.CODEX_SESSION
    assert recorded[made]["agent"] == "codex"
    assert t.SECRET not in _journal(world)


def test_a_repositorys_first_commit_lists_the_files_it_added(tmp_path: Path) -> None:
    """A root commit has no parent to compare with: its files are all it added."""
    from oncall_tui.agents.commits.git import head_commit
    from tests.support.git_repos import commit, init_repo

    repo = init_repo(tmp_path / "fresh")
    commit(repo, "Start", {"a.py": "1\n", "lib/b.py": "2\n"}, at="2026-11-23T02:00:00+00:00")
    found = head_commit(str(repo))
    assert found is not None and sorted(found.files) == ["a.py", "lib/b.py"]
