"""Notes: operational memory for a service, written by engineers or (pending review) by agents."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from oncall_tui.actions import find_incident
from oncall_tui.actions.sessions import normalize_paths
from oncall_tui.core.agents import Note, NoteKind
from oncall_tui.core.journal import NoteAccepted, NoteAdded, NoteSuperseded
from oncall_tui.core.sanitize import clean, identifier
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import NotFoundError

MAX_NOTE = 4000


def _note_id(number: int) -> str:
    return f"N-{number}"


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
        if supersedes is not None and writer.tables.get_note(supersedes.upper()) is None:
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
        )
        writer.append(NoteAdded(note), actor=author)
        if supersedes is not None:
            writer.append(NoteSuperseded(supersedes.upper(), note.id), actor=author)
    return note


def accept_note(store: Store, note_id: str, by: str) -> Note:
    with store.write(durable=True) as writer:
        note = writer.tables.get_note(note_id.upper())
        if note is None:
            raise NotFoundError(f"no note {note_id}")
        writer.append(NoteAccepted(note.id, by), actor=by)
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


def missing_paths(note: Note) -> list[str]:
    """Referenced files that are gone from the repo checkout the note was written in."""
    if not note.repo_root:
        return []
    root = Path(note.repo_root)
    return [p for p in note.paths if not (root / p).exists()]


def stale_reasons(note: Note, now: datetime) -> list[str]:
    return note.stale_reasons(now, missing_paths(note))


def stale_notes(notes: Iterable[Note], now: datetime) -> dict[str, list[str]]:
    """Why each note may be out of date: every document an agent reads flags the same ones."""
    return {note.id: why for note in notes if (why := stale_reasons(note, now))}
