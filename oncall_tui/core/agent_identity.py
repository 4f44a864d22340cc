"""One agent across its sessions: a restart, a resume or a fork of it is still the same agent.

An agent is its kind working in one worktree on one branch. Git checks a branch out in one
worktree at a time, so the repository and the branch name the worktree where both are known;
otherwise the working directory does. A resumed or forked session (Claude Code's
SessionStart ``source: resume|fork``) continues in the same worktree and branch, so it falls
under the same id without the hook having to name its predecessor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from oncall_tui.core.agents import AgentSession, Note

AGENT_ID_PREFIX = "A-"
AGENT_ID_DIGITS = 12
"""Hex digits of the hash: short enough to read in a list, far from colliding in one team."""


def agent_id(kind: str, worktree: str | None, branch: str | None) -> str:
    """A stable id for ``kind`` working in ``worktree`` on ``branch`` (either may be unknown)."""
    key = "\0".join((kind, (worktree or "").rstrip("/"), branch or ""))
    digest = hashlib.sha256(key.encode()).hexdigest()[:AGENT_ID_DIGITS]
    return AGENT_ID_PREFIX + digest


def session_agent_id(session: AgentSession) -> str:
    """The agent a session belongs to. Its worktree is its repository on its branch where both
    are known, else its working directory; a session that names neither is an agent of its own
    (two unnamed sessions are no evidence of one agent)."""
    return agent_id_of(session.id, session.agent.value, session.repo, session.cwd, session.branch)


def agent_id_of(
    session_id: str, kind: str, repo: str | None, cwd: str | None, branch: str | None
) -> str:
    """:func:`session_agent_id` from a session's fields as stored, without its model."""
    if repo and branch:
        return agent_id(kind, repo, branch)
    if cwd:
        return agent_id(kind, cwd, branch)
    return agent_id(kind, f"session {session_id}", branch)


def sessions_of_agent(sessions: Iterable[AgentSession], of: AgentSession) -> list[AgentSession]:
    """Every session of the agent ``of`` belongs to, ``of`` included, oldest first."""
    wanted = session_agent_id(of)
    same = [s for s in sessions if session_agent_id(s) == wanted]
    return sorted(same, key=lambda s: (s.first_seen, s.id))


def note_author(session_id: str) -> str:
    """How an agent's notes name their author (the MCP server writes them this way)."""
    return f"agent:{session_id}"


def notes_awaiting_review(
    notes: Iterable[Note], sessions: Iterable[AgentSession], of: AgentSession
) -> list[Note]:
    """Pending notes written by any session of ``of``'s agent, in note order: a resumed or
    restarted session sees what its predecessor proposed. The live store (which tells the
    agent's sessions by SQL) and replay both end in :func:`notes_of_sessions_awaiting_review`,
    so their documents stay the same."""
    return notes_of_sessions_awaiting_review(notes, [s.id for s in sessions_of_agent(sessions, of)])


def notes_of_sessions_awaiting_review(
    notes: Iterable[Note], session_ids: Iterable[str]
) -> list[Note]:
    """Pending notes written by any of ``session_ids`` (one agent's sessions), in note order."""
    authors = {note_author(session_id) for session_id in session_ids}
    found = [n for n in notes if n.is_pending and n.agent_authored and n.author in authors]
    return sorted(found, key=lambda n: n.number)
