"""The trailer scan: commits signed by an agent, found in the sessions' checkouts with git log.

A hook sees only the commits its agent made through a shell tool; agents without our hook, or
commits made another way, are found by their trailer. Each checkout a session worked in is read
once, over the lifetime of its sessions (plus :data:`AFTER_LAST_SEEN`, as a session is last seen
a little before its final commit), and a commit whose trailer names an agent is attributed to
the session of that repository and agent kind that was active when it was authored. When none
was, the commit is kept with the trailer's agent and no session: still an agent's change.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from oncall_tui.agents.commits.git import GitCommit, log_commits
from oncall_tui.agents.commits.record import record_commits, to_commit
from oncall_tui.agents.commits.trailers import TrailerMatcher, agent_of_trailer
from oncall_tui.agents.repo import repo_info, repo_slug
from oncall_tui.core.agents import AgentSession
from oncall_tui.core.commits import Commit, CommitSource
from oncall_tui.store.journal import Store

AFTER_LAST_SEEN = timedelta(minutes=10)


@dataclass
class ScanReport:
    checkouts: list[str] = field(default_factory=list)
    """The repositories read (``owner/name``)."""
    signed: int = 0
    """Commits with an agent trailer found."""
    recorded: list[Commit] = field(default_factory=list)
    """Those journaled now (new, or adding a session)."""


@dataclass
class _Checkout:
    root: Path
    repo: str
    sessions: list[AgentSession]


def scan_trailers(
    store: Store,
    patterns: Sequence[str],
    *,
    since: datetime | None = None,
    checkout: Path | None = None,
) -> ScanReport:
    """Scan the sessions' checkouts (or only ``checkout``) and journal the signed commits.

    ``since`` leaves out sessions last seen before it, and commits authored before it.
    """
    now = store.clock.now()
    matcher = TrailerMatcher.of(patterns)
    sessions = [s for s in _sessions(store) if since is None or s.last_seen >= since]
    checkouts = _checkouts(sessions)
    if checkout is not None:
        root = repo_info(str(checkout)).root
        if root is None:
            return ScanReport()
        repo = repo_slug(root)
        mine = [s for s in sessions if s.repo == repo]
        checkouts = {root: _Checkout(root, repo, mine)}
    report = ScanReport()
    found: list[Commit] = []
    for place in checkouts.values():
        start = min((s.first_seen for s in place.sessions), default=since or now)
        end = max((s.last_seen for s in place.sessions), default=now) + AFTER_LAST_SEEN
        if since is not None:
            start = max(start, since) if place.sessions else since
        if checkout is not None:
            end = max(end, now)
        report.checkouts.append(place.repo)
        for commit in log_commits(str(place.root), start, end):
            trailer = matcher.agent_trailer(commit.trailers)
            if trailer is None or (since is not None and commit.authored_at < since):
                continue
            report.signed += 1
            found.append(_attributed(commit, trailer, place))
    if found:
        report.recorded = record_commits(store, found, actor="engine")
    return report


def _attributed(commit: GitCommit, trailer: str, place: _Checkout) -> Commit:
    agent = agent_of_trailer(trailer)
    session = session_at(place.sessions, agent, commit.authored_at)
    return to_commit(
        commit,
        place.repo,
        source=CommitSource.TRAILER,
        session_id=session.id if session else None,
        agent=agent,
        trailer=trailer,
    )


def session_at(sessions: Sequence[AgentSession], agent: str, at: datetime) -> AgentSession | None:
    """The session of kind ``agent`` active at ``at``: the latest started among those whose
    lifetime (plus :data:`AFTER_LAST_SEEN`) covers it."""
    active = [
        s
        for s in sessions
        if s.agent.value == agent and s.first_seen <= at <= s.last_seen + AFTER_LAST_SEEN
    ]
    return max(active, key=lambda s: (s.first_seen, s.id), default=None)


def _sessions(store: Store) -> list[AgentSession]:
    rows = store.conn.execute("SELECT data FROM sessions ORDER BY id").fetchall()
    return [AgentSession.model_validate(json.loads(data)) for (data,) in rows]


def _checkouts(sessions: Sequence[AgentSession]) -> dict[Path, _Checkout]:
    """The checkouts the sessions worked in that still exist, with the sessions of each."""
    places: dict[Path, _Checkout] = {}
    roots: dict[str, Path | None] = {}
    for session in sessions:
        if not session.cwd or not Path(session.cwd).is_dir():
            continue
        if session.cwd not in roots:
            roots[session.cwd] = repo_info(session.cwd).root
        root = roots[session.cwd]
        if root is None:
            continue
        if root not in places:
            places[root] = _Checkout(root, session.repo or repo_slug(root), [])
        places[root].sessions.append(session)
    return places
