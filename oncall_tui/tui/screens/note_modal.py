"""Adding a note: operational memory for the service (or the incident) every agent will see."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select

from oncall_tui.core.agents import NoteKind
from oncall_tui.core.sanitize import display_text
from oncall_tui.tui.format import plain


@dataclass(frozen=True)
class NoteDraft:
    """The note as written; ``service`` None puts it on the incident instead."""

    kind: NoteKind
    text: str
    service: str | None
    rationale: str


class NoteModal(ModalScreen[NoteDraft | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, incident_id: str, service: str | None) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.service = service

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            # The service is a sender's label: shown as written (never parsed as markup, and
            # without escapes, in the title and in the input alike).
            yield Label(
                plain(f"Note for {self.service or self.incident_id}"), classes="dialog-title"
            )
            yield Select(
                [(k.value, k.value) for k in NoteKind],
                value=NoteKind.DECISION.value,
                id="kind",
                allow_blank=False,
            )
            yield Input(
                value=display_text(self.service or "", None),
                placeholder="service (empty: the incident)",
                id="service",
            )
            yield Input(placeholder="the note", id="text")
            yield Input(placeholder="rationale (why)", id="rationale")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Add", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        text = self.query_one("#text", Input).value.strip()
        if not text:
            self.query_one("#error", Label).update("Write the note first.")
            return
        self.dismiss(
            NoteDraft(
                kind=NoteKind(str(self.query_one("#kind", Select).value)),
                text=text,
                service=self.query_one("#service", Input).value.strip() or None,
                rationale=self.query_one("#rationale", Input).value.strip(),
            )
        )

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
