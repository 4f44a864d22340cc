"""Agent sessions: register, heartbeat (touched files), end. Each may change who is affected."""

from __future__ import annotations

from datetime import datetime

from oncall_tui.actions import Rules, active_incident_ids, reconcile
from oncall_tui.core.agent_handover import handover_events
from oncall_tui.core.agents import MAX_SESSION_PATHS, AgentKind, AgentSession, validate_session_id
from oncall_tui.core.journal import SessionEnded, SessionRegistered, SessionSeen
from oncall_tui.core.sanitize import clean
from oncall_tui.core.urls import without_userinfo
from oncall_tui.store.journal import Store, Writer
from oncall_tui.store.queries import NotFoundError, agent_session_ids

MAX_PATH_LENGTH = 1024


def normalize_paths(paths: list[str]) -> list[str]:
    """Repo-relative paths as agents report them; anything escaping the repo is dropped."""
    kept = []
    for raw in paths[-MAX_SESSION_PATHS:]:
        path = clean(raw, MAX_PATH_LENGTH).replace("\\", "/").strip()
        while path.startswith("./"):
            path = path[2:]
        parts = [p for p in path.split("/") if p not in ("", ".")]
        if not parts or ".." in parts or path.startswith("/"):
            continue
        kept.append("/".join(parts))
    return kept


def register(
    store: Store,
    rules: Rules,
    session_id: str,
    *,
    agent: AgentKind = AgentKind.OTHER,
    repo: str | None = None,
    cwd: str | None = None,
    branch: str | None = None,
    task: str = "",
    paths: list[str] | None = None,
    actor: str | None = None,
    source: str | None = None,
    seen_at: datetime | None = None,
) -> AgentSession:
    """Register (or refresh) a session. ``source`` says how we learned of it when it did not
    announce itself; ``seen_at`` is when it was last active if that was before now (a session
    found from its transcript), never later than now."""
    validate_session_id(session_id)
    now = store.clock.now()
    last_seen = min(seen_at, now) if seen_at is not None else now
    session = AgentSession(
        id=session_id,
        agent=agent,
        repo=clean(without_userinfo(repo), 200) if repo else None,
        cwd=clean(cwd, 1024) if cwd else None,
        branch=clean(branch, 200) if branch else None,
        task=clean(task, 300),
        paths=normalize_paths(paths or []),
        first_seen=last_seen,
        last_seen=last_seen,
        source=clean(source, 40) if source else None,
    )
    with store.write() as writer:
        writer.append(SessionRegistered(session), actor=actor or f"agent:{session_id}")
        incident_ids = active_incident_ids(writer)
        # Before reconciling: the carried guidance is the version reconcile then builds on.
        _continue_the_agent(writer, session, incident_ids)
        reconcile(writer, incident_ids, rules, only_session=session_id)
        stored = writer.tables.get_session(session_id)
    assert stored is not None
    return stored


def _continue_the_agent(writer: Writer, session: AgentSession, incident_ids: list[str]) -> None:
    """Give a new session of an agent the live guidance its earlier sessions were given."""
    predecessors = set(agent_session_ids(writer.conn, session)) - {session.id}
    if not predecessors:
        return
    mine_and_theirs = predecessors | {session.id}  # all that handover_events looks at
    pushes = [
        p for i in incident_ids for p in writer.tables.pushes_for_incident(i, mine_and_theirs)
    ]
    events = handover_events(
        session, predecessors, pushes, writer.tables.next_push_number(), writer.clock.now()
    )
    for event in events:
        writer.append(event, actor="engine")


def heartbeat(
    store: Store,
    rules: Rules,
    session_id: str,
    *,
    paths: list[str] | None = None,
    branch: str | None = None,
    task: str | None = None,
) -> AgentSession:
    """The session is alive, and maybe touched files (which may put it in an incident's radius)."""
    validate_session_id(session_id)
    with store.write() as writer:
        session = writer.tables.get_session(session_id)
        if session is None:
            raise NotFoundError(f"no session {session_id}")
        new_paths = [p for p in normalize_paths(paths or []) if p not in session.paths]
        seen = SessionSeen(
            session_id,
            new_paths,
            branch=clean(branch, 200) if branch else None,
            task=clean(task, 300) if task else None,
        )
        writer.append(seen, actor=f"agent:{session_id}")
        if new_paths or session.ended_at is not None:
            reconcile(writer, active_incident_ids(writer), rules, only_session=session_id)
        stored = writer.tables.get_session(session_id)
    assert stored is not None
    return stored


def end(store: Store, rules: Rules, session_id: str, actor: str | None = None) -> AgentSession:
    validate_session_id(session_id)
    with store.write() as writer:
        if writer.tables.get_session(session_id) is None:
            raise NotFoundError(f"no session {session_id}")
        writer.append(SessionEnded(session_id), actor=actor or f"agent:{session_id}")
        # Its pending pushes expire: nobody is there to read them.
        reconcile(writer, active_incident_ids(writer), rules)
        stored = writer.tables.get_session(session_id)
    assert stored is not None
    return stored
