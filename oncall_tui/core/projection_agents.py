"""The fold for the agent side: catalog, sessions, pushes, context deliveries, notes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, Protocol, TypeVar

from oncall_tui.core.agents import AgentSession, Note, Push, PushState, merge_paths
from oncall_tui.core.commit_records import merge_commit
from oncall_tui.core.commits import Commit, DeployRange
from oncall_tui.core.journal import (
    CatalogLoaded,
    CommitRecorded,
    ContextDelivered,
    DeployRangeResolved,
    GuardAllowed,
    GuardDecided,
    JournalBody,
    JournalEntry,
    NoteAccepted,
    NoteAdded,
    NoteRejected,
    NoteRetired,
    NoteSuperseded,
    PushAcknowledged,
    PushApproved,
    PushExpired,
    PushProposed,
    PushRejected,
    PushSuperseded,
    SessionEnded,
    SessionRegistered,
    SessionSeen,
)
from oncall_tui.core.topology import Service

BodyT = TypeVar("BodyT", bound=JournalBody)
TablesT = TypeVar("TablesT")

Handlers = dict[type[JournalBody], Callable[[Any, JournalEntry, TablesT], None]]
"""The fold's dispatch: body class → handler. Filled with :func:`register`."""


def register(
    handlers: Handlers[TablesT],
    body_class: type[BodyT],
    handler: Callable[[BodyT, JournalEntry, TablesT], None],
) -> None:
    """Fold ``body_class`` entries with ``handler``: one call per class, so that the type
    checker sees each pair on its own and refuses a handler written for another body."""
    handlers[body_class] = handler


def at_of(at: str | None, entry: JournalEntry) -> datetime:
    """When the fact happened: the body's own time when it has one, else when it was written."""
    return datetime.fromisoformat(at) if isinstance(at, str) else entry.ts


class AgentTables(Protocol):
    def get_catalog(self) -> dict[str, Service]: ...
    def put_catalog(self, services: dict[str, Service]) -> None: ...
    def get_session(self, session_id: str) -> AgentSession | None: ...
    def put_session(self, session: AgentSession) -> None: ...
    def get_push(self, push_id: str) -> Push | None: ...
    def put_push(self, push: Push) -> None: ...
    def get_note(self, note_id: str) -> Note | None: ...
    def put_note(self, note: Note) -> None: ...
    def put_guard_decision(self, decision: GuardDecided, at: datetime) -> None: ...
    def put_guard_allowance(self, allowance: GuardAllowed) -> None: ...
    def get_commit(self, sha: str) -> Commit | None: ...
    def put_commit(self, commit: Commit) -> None: ...
    def put_deploy_range(self, deploy: DeployRange) -> None: ...


def _catalog_loaded(body: CatalogLoaded, entry: JournalEntry, tables: AgentTables) -> None:
    tables.put_catalog(dict(body.services))


def _session_registered(body: SessionRegistered, entry: JournalEntry, tables: AgentTables) -> None:
    incoming = body.session
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
                # The latest announcement says how we know it: a hook after a discovery wins.
                "source": incoming.source,
            }
        )
    )


def _session_seen(body: SessionSeen, entry: JournalEntry, tables: AgentTables) -> None:
    session = tables.get_session(body.session_id)
    if session is None:
        return
    update: dict[str, Any] = {"last_seen": max(session.last_seen, entry.ts), "ended_at": None}
    if body.paths:
        update["paths"] = merge_paths(session.paths, list(body.paths))
    if body.branch:
        update["branch"] = body.branch
    if body.task:
        update["task"] = body.task
    tables.put_session(session.model_copy(update=update))


def _session_ended(body: SessionEnded, entry: JournalEntry, tables: AgentTables) -> None:
    session = tables.get_session(body.session_id)
    if session is not None:
        tables.put_session(session.model_copy(update={"ended_at": entry.ts}))


def _push_proposed(body: PushProposed, entry: JournalEntry, tables: AgentTables) -> None:
    tables.put_push(body.push.model_copy(update={"proposed_seq": entry.seq}))


def _push_update(
    tables: AgentTables, push_id: str, update: Callable[[Push], dict[str, Any]]
) -> None:
    """Move a push to a new state; a push the projection does not hold is left alone."""
    push = tables.get_push(push_id)
    if push is not None:
        tables.put_push(push.model_copy(update=update(push)))


def _push_approved(body: PushApproved, entry: JournalEntry, tables: AgentTables) -> None:
    _push_update(
        tables,
        body.push_id,
        lambda _: {
            "state": PushState.APPROVED,
            "decided_at": entry.ts,
            "decided_by": body.by or entry.actor,
            "auto_approved_by": body.rule,
            "live_seq": entry.seq,
        },
    )


def _push_rejected(body: PushRejected, entry: JournalEntry, tables: AgentTables) -> None:
    _push_update(
        tables,
        body.push_id,
        lambda _: {
            "state": PushState.REJECTED,
            "decided_at": entry.ts,
            "decided_by": body.by or entry.actor,
            "reject_reason": body.reason,
        },
    )


def _push_superseded(body: PushSuperseded, entry: JournalEntry, tables: AgentTables) -> None:
    _push_update(
        tables,
        body.push_id,
        lambda _: {"state": PushState.SUPERSEDED, "superseded_by": body.by_push},
    )


def _push_expired(body: PushExpired, entry: JournalEntry, tables: AgentTables) -> None:
    _push_update(tables, body.push_id, lambda _: {"state": PushState.EXPIRED})


def _push_acknowledged(body: PushAcknowledged, entry: JournalEntry, tables: AgentTables) -> None:
    _push_update(
        tables,
        body.push_id,
        lambda _: {"state": PushState.ACKNOWLEDGED, "acknowledged_at": entry.ts},
    )


def _push_delivered(push: Push, channel: str, at: datetime) -> Push:
    if push.announced:  # only the notice reached the agent: the push itself is yet to come
        if channel in push.announced_via:
            return push
        return push.model_copy(update={"announced_via": [*push.announced_via, channel]})
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


def _context_delivered(body: ContextDelivered, entry: JournalEntry, tables: AgentTables) -> None:
    at = entry.ts
    for push_id in body.push_ids:
        push = tables.get_push(push_id)
        if push is not None and (push.state.is_live or push.announced):
            tables.put_push(_push_delivered(push, body.channel, at))
    session = tables.get_session(body.session_id) if body.session_id else None
    if session is not None:
        through = max(session.last_context_seq, int(body.through_seq))
        tables.put_session(
            session.model_copy(update={"last_context_seq": through, "last_context_at": at})
        )


def _note_added(body: NoteAdded, entry: JournalEntry, tables: AgentTables) -> None:
    tables.put_note(body.note)


def _note_update(tables: AgentTables, note_id: str, at: datetime, **update: Any) -> None:
    note = tables.get_note(note_id)
    if note is not None:
        tables.put_note(note.model_copy(update={**update, "updated_at": at}))


def _note_accepted(body: NoteAccepted, entry: JournalEntry, tables: AgentTables) -> None:
    _note_update(tables, body.note_id, entry.ts, accepted=True)


def _note_superseded(body: NoteSuperseded, entry: JournalEntry, tables: AgentTables) -> None:
    _note_update(tables, body.note_id, entry.ts, superseded_by=body.by_note)


def _note_rejected(body: NoteRejected, entry: JournalEntry, tables: AgentTables) -> None:
    _note_update(tables, body.note_id, entry.ts, rejected=True, closed_reason=body.reason)


def _note_retired(body: NoteRetired, entry: JournalEntry, tables: AgentTables) -> None:
    _note_update(tables, body.note_id, entry.ts, retired=True, closed_reason=body.reason)


def _guard_decided(body: GuardDecided, entry: JournalEntry, tables: AgentTables) -> None:
    tables.put_guard_decision(body, entry.ts)


def _guard_allowed(body: GuardAllowed, entry: JournalEntry, tables: AgentTables) -> None:
    tables.put_guard_allowance(body)


def _commit_recorded(body: CommitRecorded, entry: JournalEntry, tables: AgentTables) -> None:
    # Recorded again (the hook, then the trailer scan): the first session attribution stays.
    tables.put_commit(merge_commit(tables.get_commit(body.commit.sha), body.commit))


def _deploy_range_resolved(
    body: DeployRangeResolved, entry: JournalEntry, tables: AgentTables
) -> None:
    tables.put_deploy_range(body.deploy)


AGENT_HANDLERS: Handlers[AgentTables] = {}
register(AGENT_HANDLERS, CatalogLoaded, _catalog_loaded)
register(AGENT_HANDLERS, SessionRegistered, _session_registered)
register(AGENT_HANDLERS, SessionSeen, _session_seen)
register(AGENT_HANDLERS, SessionEnded, _session_ended)
register(AGENT_HANDLERS, PushProposed, _push_proposed)
register(AGENT_HANDLERS, PushApproved, _push_approved)
register(AGENT_HANDLERS, PushRejected, _push_rejected)
register(AGENT_HANDLERS, PushSuperseded, _push_superseded)
register(AGENT_HANDLERS, PushExpired, _push_expired)
register(AGENT_HANDLERS, PushAcknowledged, _push_acknowledged)
register(AGENT_HANDLERS, ContextDelivered, _context_delivered)
register(AGENT_HANDLERS, NoteAdded, _note_added)
register(AGENT_HANDLERS, NoteAccepted, _note_accepted)
register(AGENT_HANDLERS, NoteSuperseded, _note_superseded)
register(AGENT_HANDLERS, NoteRejected, _note_rejected)
register(AGENT_HANDLERS, NoteRetired, _note_retired)
register(AGENT_HANDLERS, GuardDecided, _guard_decided)
register(AGENT_HANDLERS, GuardAllowed, _guard_allowed)
register(AGENT_HANDLERS, CommitRecorded, _commit_recorded)
register(AGENT_HANDLERS, DeployRangeResolved, _deploy_range_resolved)
