"""A broadcast reaches every active session: the dialog shows exactly who before sending."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from oncall_tui.core.agents import AgentSession
from oncall_tui.core.sanitize import display_text

AUDIENCE_SHOWN = 8


@dataclass(frozen=True)
class BroadcastMessage:
    """What every session in the audience shown will be told (never empty)."""

    text: str


class BroadcastModal(ModalScreen[BroadcastMessage | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="cancel")]

    def __init__(self, incident_id: str, audience: list[AgentSession]) -> None:
        super().__init__()
        self.incident_id = incident_id
        self.audience = audience

    def compose(self) -> ComposeResult:
        names = [
            f"{s.id} ({s.agent.value}, {s.repo or '-'})" for s in self.audience[:AUDIENCE_SHOWN]
        ]
        more = len(self.audience) - AUDIENCE_SHOWN
        if more > 0:
            names.append(f"… and {more} more")
        with Vertical(classes="dialog"):
            yield Label(
                f"Broadcast about {self.incident_id} to {len(self.audience)} sessions",
                classes="dialog-title",
                markup=False,
            )
            lines = [display_text(name, 100) for name in names] or ["no active sessions"]
            yield Static(Text("\n".join(lines)), id="audience")
            yield Input(placeholder="What every agent should know now", id="message")
            yield Label("", id="error", classes="error")
            with Horizontal(classes="buttons"):
                yield Button(
                    f"Send to {len(self.audience)}",
                    variant="warning",
                    id="ok",
                    disabled=not self.audience,
                )
                yield Button("Cancel", id="cancel")

    @on(Button.Pressed, "#ok")
    @on(Input.Submitted, "#message")
    def _submit(self) -> None:
        message = self.query_one("#message", Input).value.strip()
        if not self.audience:
            self.query_one("#error", Label).update("No active session would receive it.")
            return
        if not message:
            self.query_one("#error", Label).update("Write the message first.")
            return
        self.dismiss(BroadcastMessage(message))

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)
