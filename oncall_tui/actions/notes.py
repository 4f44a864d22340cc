"""Notes: operational memory for a service, written by engineers or (pending review) by agents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from oncall_tui.actions import find_incident
from oncall_tui.actions.note_history import commit_reasons, missing_globs
from oncall_tui.actions.sessions import normalize_paths
from oncall_tui.core.agents import Note, NoteKind
from oncall_tui.core.journal import (
    NoteAccepted,
    NoteAdded,
    NoteRejected,
    NoteRetired,
    NoteSuperseded,
)
from oncall_tui.core.sanitize import clean, identifier
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import NotFoundError

MAX_NOTE = 4000


def _note_id(number: int) -> str:
    return f"N-{number}"


class UnknownServiceError(ValueError):
    pass


def check_service(store: Store, service: str) -> str:
    """The catalog's name for ``service``; a clear error naming the known ones otherwise."""
    known = store.tables().get_catalog()
    name = identifier(service)
    if name in known:
        return name
    listed = ", ".join(sorted(known)[:20]) or "none: load a catalog first (oncall-tui catalog)"
    raise UnknownServiceError(f"unknown service {name!r}: the catalog knows {listed}")


def add_note(
    store: Store,
    *,
    author: str,
    kind: NoteKind,
    text: str,
    service: str | None = None,
    incident_id: str | None = None,
    rationale: str = "",
    paths: list[str] | None = None,
    repo_root: str | None = None,
    review_by: datetime | None = None,
    agent_authored: bool = False,
    supersedes: str | None = None,
) -> Note:
    body = clean(text, MAX_NOTE).strip()
    if not body:
        raise ValueError("a note needs text")
    if service is None and incident_id is None:
        raise ValueError("a note belongs to a service or an incident")
    now = store.clock.now()
    with store.write(durable=True) as writer:
        replaced = writer.tables.get_note(supersedes.upper()) if supersedes else None
        if supersedes is not None and replaced is None:
            raise NotFoundError(f"no note {supersedes}")
        if incident_id is not None:
            find_incident(writer, incident_id)
        number = writer.tables.next_note_number()
        note = Note(
            id=_note_id(number),
            number=number,
            service=identifier(service) if service else None,
            incident_id=incident_id.upper() if incident_id else None,
            kind=kind,
            text=body,
            rationale=clean(rationale, MAX_NOTE).strip(),
            author=clean(author, 120),
            agent_authored=agent_authored,
            accepted=not agent_authored,
            paths=normalize_paths(paths or []),
            repo_root=repo_root,
            review_by=review_by,
            created_at=now,
            updated_at=now,
            supersedes=replaced.id if replaced else None,
        )
        writer.append(NoteAdded(note), actor=author)
        # An agent's proposal replaces nothing until an engineer accepts it.
        if replaced is not None and not agent_authored:
            writer.append(NoteSuperseded(replaced.id, note.id), actor=author)
    return note


def accept_note(store: Store, note_id: str, by: str) -> Note:
    """Accept an agent's note; a proposed update then supersedes the note it names."""
    with store.write(durable=True) as writer:
        note = writer.tables.get_note(note_id.upper())
        if note is None:
            raise NotFoundError(f"no note {note_id}")
        if note.is_closed:
            raise ValueError(f"{note.id} was {'rejected' if note.rejected else 'retired'}")
        writer.append(NoteAccepted(note.id, by), actor=by)
        old = writer.tables.get_note(note.supersedes) if note.supersedes else None
        if old is not None and old.superseded_by is None:
            writer.append(NoteSuperseded(old.id, note.id), actor=by)
        updated = writer.tables.get_note(note.id)
    assert updated is not None
    return updated


def reject_note(store: Store, note_id: str, by: str, reason: str = "") -> Note:
    """Decline an agent's pending note or proposal: no agent will read it."""
    return _close(store, note_id, by, reason, retire=False)


def retire_note(store: Store, note_id: str, by: str, reason: str = "") -> Note:
    """Withdraw a note that no longer holds (nothing replaces it)."""
    return _close(store, note_id, by, reason, retire=True)


def _close(store: Store, note_id: str, by: str, reason: str, *, retire: bool) -> Note:
    with store.write(durable=True) as writer:
        note = writer.tables.get_note(note_id.upper())
        if note is None:
            raise NotFoundError(f"no note {note_id}")
        if note.is_closed or note.superseded_by:
            raise ValueError(f"{note.id} is no longer current")
        if not retire and not note.is_pending:
            raise ValueError(f"{note.id} is not awaiting review: retire it instead")
        why = clean(reason, 500).strip()
        body = NoteRetired(note.id, by, why) if retire else NoteRejected(note.id, by, why)
        writer.append(body, actor=by)
        updated = writer.tables.get_note(note.id)
    assert updated is not None
    return updated


def list_notes(
    store: Store, service: str | None = None, include_superseded: bool = False
) -> list[Note]:
    sql = "SELECT data FROM notes" + (" WHERE service = ?" if service else "") + " ORDER BY number"
    rows = store.conn.execute(sql, (service,) if service else ()).fetchall()
    notes = [Note.model_validate_json(r[0]) for r in rows]
    return [n for n in notes if include_superseded or n.superseded_by is None]


def missing_paths(note: Note, root: str | None = None) -> list[str]:
    """Referenced files (globs) that match nothing in the checkout at ``root``, by default the
    one the note was written in."""
    where = root or note.repo_root
    if not where:
        return []
    return missing_globs(where, note.paths)


def stale_reasons(note: Note, now: datetime, root: str | None = None) -> list[str]:
    """Files gone, a later commit touching its files (git log), review date passed."""
    return note.stale_reasons(now, missing_paths(note, root), commit_reasons(note, root))


def stale_notes(notes: Iterable[Note], now: datetime) -> dict[str, list[str]]:
    """Why each note may be out of date: every document an agent reads flags the same ones."""
    return {note.id: why for note in notes if (why := stale_reasons(note, now))}
