"""Journal bodies of notes: added, accepted, superseded, rejected, retired.

Their kinds are spelled and registered in :mod:`oncall_tui.core.journal`, which imports them.
"""

from __future__ import annotations

from dataclasses import dataclass

from oncall_tui.core.agents import Note
from oncall_tui.core.journal_body import JournalBody


@dataclass(frozen=True, slots=True)
class NoteAdded(JournalBody):
    note: Note


@dataclass(frozen=True, slots=True)
class NoteAccepted(JournalBody):
    note_id: str
    by: str


@dataclass(frozen=True, slots=True)
class NoteSuperseded(JournalBody):
    note_id: str
    by_note: str


@dataclass(frozen=True, slots=True)
class NoteRejected(JournalBody):
    """An engineer declined an agent's note or proposal: it never reaches another agent."""

    note_id: str
    by: str
    reason: str = ""


@dataclass(frozen=True, slots=True)
class NoteRetired(JournalBody):
    """An engineer withdrew a note that no longer holds, with nothing to replace it."""

    note_id: str
    by: str
    reason: str = ""
