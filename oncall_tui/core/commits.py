"""Commits made in agent sessions, and the commits a deploy shipped: the facts that tie an
incident's suspect deploy to the agent sessions whose work it carried.

Plain values, so the join (which incidents an agent's change set off, and whether that agent
had been told) stays pure and the same for reports, the dashboard, replay and the timeline.
Only metadata is kept: the subject line and the attribution trailer of a commit, never its body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CommitSource(StrEnum):
    """How a commit was tied to a session."""

    HOOK = "hook"
    """The session's hook saw the agent run ``git commit`` (or merge, cherry-pick) and read HEAD."""
    TRAILER = "trailer"
    """An agent trailer (``Co-Authored-By: Claude``...) in the session's repo during its lifetime."""
    TRANSCRIPT = "transcript"
    """Found in the agent's own transcript by discovery."""


@dataclass(frozen=True)
class Commit:
    """One commit of a repository, as far as oncall-tui knows it."""

    sha: str
    """Full hex sha."""
    repo: str
    """``owner/name``, the form sessions and the catalog use."""
    authored_at: datetime
    subject: str = ""
    """The first line only, capped; shown as data (it is text someone typed)."""
    files: tuple[str, ...] = ()
    """Paths changed, relative to the repo root (capped)."""
    parents: tuple[str, ...] = ()
    session_id: str | None = None
    """The agent session that made it, when known."""
    agent: str | None = None
    """An ``AgentKind`` value: from the session, or from the trailer alone."""
    source: CommitSource | None = None
    trailer: str = ""
    """The attribution trailer line that names the agent, if any (``Co-Authored-By: ...``)."""


@dataclass(frozen=True)
class DeployRange:
    """The commits a deploy shipped: from the previous deploy of the service (exclusive) to the
    deployed sha (inclusive)."""

    signal_id: int
    """The stored deploy signal (``signals.id``)."""
    service: str
    repo: str
    sha: str
    previous_sha: str | None
    shas: tuple[str, ...] = field(default_factory=tuple)
    """Newest first, as ``git rev-list`` gives them."""
    via: str = "git"
    """``git`` (a local clone) or ``github`` (the compare API)."""
