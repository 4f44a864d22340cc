"""The highlighted note in full: an agent's proposal as a diff against the note it replaces.

Agent text is data: every line is built as plain ``Text`` from sanitised strings, so a
proposal's ``[bold]`` or ``[link=...]`` shows exactly as written and styles nothing.
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual.widgets import Static

from oncall_tui.core.note_review import ReviewGroup, ReviewItem, proposal_diff
from oncall_tui.core.sanitize import display_text

DIFF_COLOURS = {"+": "state-resolved", "-": "sev-critical", "@": "session-idle"}
"""Theme variables for added, removed and hunk lines."""


def render_review(item: ReviewItem | None, palette: Mapping[str, str]) -> Text:
    """The note, why it is listed where it is, and for a proposal what it would change."""
    text = Text()
    if item is None:
        text.append("No notes yet.", style="dim")
        return text
    note = item.note
    text.append(f"{note.id} ", style="bold")
    text.append(f"{note.kind.value} · {display_text(note.service or note.incident_id or '-')}")
    text.append(f" · by {display_text(note.author, 80)}")
    text.append(f" · {note.created_at:%Y-%m-%d %H:%M} UTC\n")
    if item.group is ReviewGroup.PENDING:
        text.append("Written by an agent: waiting for you to accept or reject it.\n", style="bold")
    for reason in item.stale_reasons:
        text.append(f"May be stale: {display_text(reason, 200)}\n", style="bold")
    if note.paths:
        text.append(f"Paths: {display_text(', '.join(note.paths), 300)}\n")
    if item.replaces is not None:
        text.append(f"\nReplaces {item.replaces.id}:\n", style="bold underline")
        for line in proposal_diff(item.replaces, note):
            colour = palette.get(DIFF_COLOURS.get(line[:1], ""), "")
            text.append(display_text(line, 500) + "\n", style=colour)
        return text
    text.append("\n")
    for line in note.text.splitlines():
        text.append(display_text(line, 500) + "\n")
    if note.rationale:
        text.append("\nWhy: ", style="bold")
        text.append(display_text(note.rationale, 1000) + "\n")
    return text


class NoteReview(Static):
    """Shows what :func:`render_review` made; never parses it as markup."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id, markup=False)

    def show(self, item: ReviewItem | None, palette: Mapping[str, str]) -> None:
        self.update(render_review(item, palette))
