"""Rejecting a push needs a reason: it is kept in the journal for the review."""

from __future__ import annotations

from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label


@dataclass(frozen=True)
class Rejection:
    """Why the engineer rejected the push (never empty)."""

    reason: str


class RejectModal(ModalScreen[Rejection | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, push_id: str) -> None:
        super().__init__()
        self.push_id = push_id

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(f"Reject {self.push_id}", classes="dialog-title", markup=False)
            yield Input(placeholder="Why? (required)", id="reason")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button("Reject", variant="error", id="ok")
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#reason")
    def _submit(self) -> None:
        reason = self.query_one("#reason", Input).value.strip()
        if not reason:
            self.query_one("#error", Label).update("A reason is required.")
            return
        self.dismiss(Rejection(reason))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
