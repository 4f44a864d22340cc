"""The fold for the agent side: catalog, sessions, pushes, context deliveries, notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol

from oncall_tui.core.agents import AgentSession, Note, Push, PushState, merge_paths
from oncall_tui.core.models import JournalEntry
from oncall_tui.core.topology import Service


class AgentTables(Protocol):
    def get_catalog(self) -> dict[str, Service]: ...
    def put_catalog(self, services: dict[str, Service]) -> None: ...
    def get_session(self, session_id: str) -> AgentSession | None: ...
    def put_session(self, session: AgentSession) -> None: ...
    def get_push(self, push_id: str) -> Push | None: ...
    def put_push(self, push: Push) -> None: ...
    def get_note(self, note_id: str) -> Note | None: ...
    def put_note(self, note: Note) -> None: ...


def _at(entry: JournalEntry) -> datetime:
    raw = entry.body.get("at")
    return datetime.fromisoformat(raw) if isinstance(raw, str) else entry.ts


def _catalog_loaded(entry: JournalEntry, tables: AgentTables) -> None:
    services = {name: Service.model_validate(data) for name, data in entry.body["services"].items()}
    tables.put_catalog(services)


def _session_registered(entry: JournalEntry, tables: AgentTables) -> None:
    incoming = AgentSession.model_validate(entry.body["session"])
    existing = tables.get_session(incoming.id)
    if existing is None:
        tables.put_session(incoming)
        return
    # Registering again refreshes what we know; it never forgets touched files or history.
    tables.put_session(
        existing.model_copy(
            update={
                "agent": incoming.agent,
                "repo": incoming.repo or existing.repo,
                "cwd": incoming.cwd or existing.cwd,
                "branch": incoming.branch or existing.branch,
                "task": incoming.task or existing.task,
                "paths": merge_paths(existing.paths, incoming.paths),
                "last_seen": max(existing.last_seen, incoming.last_seen),
                "ended_at": None,
            }
        )
    )


def _session_seen(entry: JournalEntry, tables: AgentTables) -> None:
    session = tables.get_session(entry.body["session_id"])
    if session is None:
        return
    update: dict[str, Any] = {"last_seen": max(session.last_seen, _at(entry)), "ended_at": None}
    if entry.body.get("paths"):
        update["paths"] = merge_paths(session.paths, list(entry.body["paths"]))
    for key in ("branch", "task"):
        if entry.body.get(key):
            update[key] = entry.body[key]
    tables.put_session(session.model_copy(update=update))


def _session_ended(entry: JournalEntry, tables: AgentTables) -> None:
    session = tables.get_session(entry.body["session_id"])
    if session is not None:
        tables.put_session(session.model_copy(update={"ended_at": _at(entry)}))


def _push_proposed(entry: JournalEntry, tables: AgentTables) -> None:
    tables.put_push(Push.model_validate(entry.body["push"]))


def _push_update(**fields: Any) -> Callable[[JournalEntry, AgentTables], None]:
    """A handler that moves a push to a new state, stamping who and when from the entry."""

    def handler(entry: JournalEntry, tables: AgentTables) -> None:
        push = tables.get_push(entry.body["push_id"])
        if push is None:
            return
        update = {
            key: (value(entry) if callable(value) else value) for key, value in fields.items()
        }
        tables.put_push(push.model_copy(update=update))

    return handler


def _push_delivered(push: Push, channel: str, at: datetime) -> Push:
    state = PushState.DELIVERED if push.state is PushState.APPROVED else push.state
    return push.model_copy(
        update={
            "state": state,
            "delivered_at": push.delivered_at or at,
            "delivered_via": push.delivered_via
            if channel in push.delivered_via
            else [*push.delivered_via, channel],
        }
    )


def _context_delivered(entry: JournalEntry, tables: AgentTables) -> None:
    at = _at(entry)
    channel = entry.body["channel"]
    for push_id in entry.body.get("push_ids", []):
        push = tables.get_push(push_id)
        if push is not None and push.state.is_live:
            tables.put_push(_push_delivered(push, channel, at))
    session_id = entry.body.get("session_id")
    session = tables.get_session(session_id) if session_id else None
    if session is not None:
        through = max(session.last_context_seq, int(entry.body.get("through_seq", 0)))
        tables.put_session(
            session.model_copy(update={"last_context_seq": through, "last_context_at": at})
        )


def _note_added(entry: JournalEntry, tables: AgentTables) -> None:
    tables.put_note(Note.model_validate(entry.body["note"]))


def _note_update(**fields: Any) -> Callable[[JournalEntry, AgentTables], None]:
    def handler(entry: JournalEntry, tables: AgentTables) -> None:
        note = tables.get_note(entry.body["note_id"])
        if note is None:
            return
        update = {
            key: (value(entry) if callable(value) else value) for key, value in fields.items()
        }
        tables.put_note(note.model_copy(update={**update, "updated_at": _at(entry)}))

    return handler


def _by(entry: JournalEntry) -> str:
    return str(entry.body.get("by") or entry.actor)


AGENT_HANDLERS: dict[str, Callable[[JournalEntry, Any], None]] = {
    "catalog.loaded": _catalog_loaded,
    "session.registered": _session_registered,
    "session.seen": _session_seen,
    "session.ended": _session_ended,
    "push.proposed": _push_proposed,
    "push.approved": _push_update(
        state=PushState.APPROVED,
        decided_at=_at,
        decided_by=_by,
        auto_approved_by=lambda e: e.body.get("rule"),
        live_seq=lambda e: e.seq,
    ),
    "push.rejected": _push_update(
        state=PushState.REJECTED,
        decided_at=_at,
        decided_by=_by,
        reject_reason=lambda e: e.body.get("reason"),
    ),
    "push.superseded": _push_update(
        state=PushState.SUPERSEDED, superseded_by=lambda e: e.body.get("by_push")
    ),
    "push.expired": _push_update(state=PushState.EXPIRED),
    "push.acknowledged": _push_update(state=PushState.ACKNOWLEDGED, acknowledged_at=_at),
    "context.delivered": _context_delivered,
    "note.added": _note_added,
    "note.accepted": _note_update(accepted=True),
    "note.superseded": _note_update(superseded_by=lambda e: e.body["by_note"]),
}
