"""Notes under review: what agents proposed (with a diff), what may be stale, and the rest.

The engineer accepts an agent's note or proposal (it becomes memory every session reads) or
rejects it with a reason, the same way a push is rejected.
"""

from __future__ import annotations

from functools import partial

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.widgets import DataTable, Footer

from oncall_tui.core.note_review import ReviewGroup, ReviewItem
from oncall_tui.tui.loader import load_notes_review
from oncall_tui.tui.messages import NotesLoaded
from oncall_tui.tui.screens.engineer_screen import EngineerScreen
from oncall_tui.tui.services import DashboardServices
from oncall_tui.tui.widgets.note_review import NoteReview
from oncall_tui.tui.widgets.note_table import NoteTable, note_rows


class NotesScreen(EngineerScreen):
    BINDINGS = [
        Binding(
            "a",
            "accept",
            "Accept",
            id="accept-note",
            tooltip="Accept the highlighted agent note: every session reads it",
        ),
        Binding(
            "r",
            "reject",
            "Reject",
            id="reject-note",
            tooltip="Reject the highlighted agent note (reason required)",
        ),
        Binding("escape", "app.pop_screen", "Back", id="back"),
    ]

    def __init__(self, services: DashboardServices) -> None:
        super().__init__()
        self.services = services
        self._items: dict[str, ReviewItem] = {}

    def compose(self) -> ComposeResult:
        with Vertical(id="notes-pane", classes="pane"):
            yield NoteTable(id="notes")
        with VerticalScroll(id="note-review-pane", classes="pane"):
            yield NoteReview(id="note-review")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#notes-pane").border_title = "Notes: pending first, then stale"
        self.query_one("#note-review-pane").border_title = "Note"
        self.query_one(NoteTable).focus()
        self.load()

    @work(thread=True, exclusive=True, group="load", exit_on_error=False)
    def load(self) -> None:
        self.post_message(NotesLoaded(load_notes_review(self.services.loader)))

    @on(NotesLoaded)
    def _show(self, message: NotesLoaded) -> None:
        self._items = {item.note.id: item for item in message.items}
        pending = sum(item.group is ReviewGroup.PENDING for item in message.items)
        self.query_one(
            "#notes-pane"
        ).border_subtitle = f"{pending} pending · {len(message.items)} notes"
        self.query_one(NoteTable).sync(note_rows(message.items, self.app.theme_variables))
        self._show_highlighted()

    @on(DataTable.RowHighlighted, "#notes")
    def _show_highlighted(self) -> None:
        item = self._highlighted()
        self.query_one(NoteReview).show(item, self.app.theme_variables)

    def _highlighted(self) -> ReviewItem | None:
        key = self.query_one(NoteTable).current_key
        return self._items.get(key) if key is not None else None

    def _pending_note_id(self) -> str | None:
        """The highlighted note if it awaits a decision; otherwise say why nothing happens."""
        item = self._highlighted()
        if item is None:
            self.notify("No note highlighted", severity="warning")
            return None
        if item.group is not ReviewGroup.PENDING:
            self.notify(f"{item.note.id} is not waiting for a decision", severity="warning")
            return None
        return item.note.id

    def after_action(self) -> None:
        self.load()

    def action_accept(self) -> None:
        if (note_id := self._pending_note_id()) is not None:
            self.perform(self.services.actions.accept_note(note_id), f"{note_id} accepted")

    def action_reject(self) -> None:
        if (note_id := self._pending_note_id()) is not None:
            reject = partial(self.services.actions.reject_note, note_id)
            self.reject_with_reason(note_id, reject, f"{note_id} rejected")
