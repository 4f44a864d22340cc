"""Editing the guidance an agent will read; saving makes a new version awaiting approval."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Label, TextArea


@dataclass(frozen=True)
class EditedGuidance:
    """The new version of the guidance: changed and not empty."""

    text: str


class EditModal(ModalScreen[EditedGuidance | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="cancel"),
        Binding("ctrl+s", "save", "Save", id="save"),
    ]

    def __init__(self, push_id: str, guidance: str) -> None:
        super().__init__()
        self.push_id = push_id
        self.guidance = guidance

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide"):
            yield Label(
                f"Edit {self.push_id} — the agent keeps the current version until you approve the new one",
                classes="dialog-title",
                markup=False,
            )
            yield TextArea(self.guidance, id="text", show_line_numbers=False, soft_wrap=True)
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Save as new version (ctrl+s)", variant="primary", id="ok")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(TextArea).focus()

    @on(Button.Pressed, "#ok")
    def action_save(self) -> None:
        text = self.query_one(TextArea).text.strip()
        if not text:
            self.query_one("#error", Label).update("The text cannot be empty.")
            return
        if text == self.guidance.strip():
            self.query_one("#error", Label).update("Nothing changed.")
            return
        self.dismiss(EditedGuidance(text))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
