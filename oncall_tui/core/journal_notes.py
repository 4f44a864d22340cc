"""Journal bodies of notes: added, accepted, superseded, rejected, retired.

Their kinds are spelled and registered in :mod:`oncall_tui.core.journal`, which imports them.
"""

from __future__ import annotations

from oncall_tui.core.agents import Note
from oncall_tui.core.journal_body import JournalBody, record


@record
class NoteAdded(JournalBody):
    note: Note


@record
class NoteAccepted(JournalBody):
    note_id: str
    by: str


@record
class NoteSuperseded(JournalBody):
    note_id: str
    by_note: str


@record
class NoteRejected(JournalBody):
    """An engineer declined an agent's note or proposal: it never reaches another agent."""

    note_id: str
    by: str
    reason: str = ""


@record
class NoteRetired(JournalBody):
    """An engineer withdrew a note that no longer holds, with nothing to replace it."""

    note_id: str
    by: str
    reason: str = ""
