"""Commits found through transcripts: a session ran a committing git command at a known time,
so the commits authored in that checkout just after are its work.

Only the call's time and directory come from the transcript (never the command's output, nor
any message); the commits themselves are read with ``git log`` in the checkout, over a short
window after the call, and journaled as ``transcript`` commits of the session. The same record
function as the hook and the trailer scan is used, so a commit any of them saw already keeps
its first attribution and does not grow the journal. The work is bounded: only the calls inside
the activity window, at most :data:`MAX_CALLS` of them per scan, and a few commits per call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Protocol

from oncall_tui.agents.commits.git import GitCommit, log_commits
from oncall_tui.agents.commits.record import record_commits, to_commit
from oncall_tui.agents.commits.trailers import TrailerMatcher
from oncall_tui.agents.discover.facts import CommitCall
from oncall_tui.agents.repo import repo_info, repo_slug
from oncall_tui.config import DEFAULT_AGENT_TRAILERS
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.commits import Commit, CommitSource
from oncall_tui.store.journal import Store

AFTER_CALL = timedelta(seconds=120)
"""How long after the tool call a commit still counts as its result (hooks, slow signing)."""
BEFORE_CALL = timedelta(seconds=2)
"""Git's author date has whole seconds, the transcript's time milliseconds: a little slack."""
MAX_COMMITS_PER_CALL = 10
"""A commit makes one, a merge one, a cherry-pick of a range several: the earliest are kept."""
MAX_CALLS = 100
"""Committing calls looked up per scan (each one costs a ``git log``)."""

_Checkout = tuple[Path, str]
"""A checkout's root and its ``owner/name``."""


class CommittingSession(Protocol):
    """A found session, as far as its commits go (``apply.FoundSession`` is one)."""

    @property
    def session_id(self) -> str: ...

    @property
    def agent(self) -> AgentKind: ...

    @property
    def commit_calls(self) -> tuple[CommitCall, ...]: ...


def transcript_commits(sessions: Sequence[CommittingSession], since: datetime) -> list[Commit]:
    """The commits the sessions' committing calls made since ``since``, each attributed to the
    first session (in the order given) whose call it followed."""
    matcher = TrailerMatcher.of(DEFAULT_AGENT_TRAILERS)
    checkouts: dict[str, _Checkout | None] = {}  # git is asked once per directory
    found: dict[str, Commit] = {}
    budget = MAX_CALLS
    for session in sessions:
        for call in session.commit_calls:
            if call.at < since:
                continue
            if budget <= 0:
                return list(found.values())
            budget -= 1
            checkout = _checkout(call.where, checkouts)
            if checkout is None:
                continue
            root, repo = checkout
            for commit in _made_by(call, root):
                if commit.sha in found:
                    continue
                found[commit.sha] = to_commit(
                    commit,
                    repo,
                    source=CommitSource.TRANSCRIPT,
                    session_id=session.session_id,
                    agent=session.agent.value,
                    trailer=matcher.agent_trailer(commit.trailers) or "",
                )
    return list(found.values())


def record_transcript_commits(
    store: Store, sessions: Sequence[CommittingSession], since: datetime, actor: str
) -> list[Commit]:
    """Find the sessions' commits and journal those that add to what is known; returns those."""
    commits = transcript_commits(sessions, since)
    return record_commits(store, commits, actor=actor) if commits else []


def _made_by(call: CommitCall, root: Path) -> list[GitCommit]:
    """The commits authored in the window after ``call``, the earliest first."""
    start, end = call.at - BEFORE_CALL, call.at + AFTER_CALL
    listed = log_commits(str(root), start, end)
    inside = [c for c in listed if start <= c.authored_at <= end]
    return sorted(inside, key=lambda c: c.authored_at)[:MAX_COMMITS_PER_CALL]


def _checkout(where: str, known: dict[str, _Checkout | None]) -> _Checkout | None:
    """The checkout around ``where``, when that directory still is one."""
    if where not in known:
        root = repo_info(where).root if Path(where).is_dir() else None
        known[where] = (root, repo_slug(root)) if root is not None else None
    return known[where]
