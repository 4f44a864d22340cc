"""What the dashboard's keys do to the store, as typed callables the screens run in workers.

A screen builds an :data:`EngineerAction` from what the engineer chose (a push, a reason, a
note) and runs it on a worker's own connection. Each factory names its arguments and their
types, so a wrong argument is a type error where the key is handled, not a failure at run time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from oncall_tui.actions import Rules
from oncall_tui.actions import notes as note_actions
from oncall_tui.actions import pushes as push_actions
from oncall_tui.actions.incidents import change_incident_state, declare_freeze
from oncall_tui.core.agents import AgentSession, NoteKind
from oncall_tui.core.models import IncidentState
from oncall_tui.store.journal import Store

EngineerAction = Callable[[Store], None]
"""One engineer decision, ready to run on the connection of the worker that runs it."""


@dataclass(frozen=True)
class EngineerActions:
    """The decisions of the engineer at this terminal, journaled under ``actor`` by ``rules``."""

    actor: str
    rules: Rules

    def approve_push(self, push_id: str) -> EngineerAction:
        def run(store: Store) -> None:
            push_actions.approve(store, push_id, self.actor, self.rules)

        return run

    def reject_push(self, push_id: str, reason: str) -> EngineerAction:
        def run(store: Store) -> None:
            push_actions.reject(store, push_id, self.actor, reason)

        return run

    def edit_push(self, push_id: str, text: str) -> EngineerAction:
        def run(store: Store) -> None:
            push_actions.edit(store, push_id, self.actor, text)

        return run

    def broadcast(self, incident_id: str, message: str) -> EngineerAction:
        def run(store: Store) -> None:
            push_actions.broadcast(store, incident_id, message, self.actor, self.rules)

        return run

    def change_incident_state(self, incident_id: str, state: IncidentState) -> EngineerAction:
        def run(store: Store) -> None:
            change_incident_state(store, incident_id, state, self.actor, self.rules)

        return run

    def set_freeze(self, incident_id: str, frozen: bool) -> EngineerAction:
        def run(store: Store) -> None:
            declare_freeze(store, incident_id, frozen, self.actor, self.rules)

        return run

    def add_note(
        self, incident_id: str, kind: NoteKind, text: str, service: str | None, rationale: str
    ) -> EngineerAction:
        """A note on ``service`` when one is named, else on the incident itself."""

        def run(store: Store) -> None:
            note_actions.add_note(
                store,
                author=self.actor,
                kind=kind,
                text=text,
                service=service or None,
                incident_id=None if service else incident_id,
                rationale=rationale,
            )

        return run

    def accept_note(self, note_id: str) -> EngineerAction:
        """An agent's note or proposal becomes memory every session reads."""

        def run(store: Store) -> None:
            note_actions.accept_note(store, note_id, self.actor)

        return run

    def reject_note(self, note_id: str, reason: str) -> EngineerAction:
        """An agent's note or proposal is turned down; the reason is journaled."""

        def run(store: Store) -> None:
            note_actions.reject_note(store, note_id, self.actor, reason)

        return run

    def broadcast_audience(self, store: Store) -> list[AgentSession]:
        """Who a broadcast would reach now: the dialog shows them before anything is sent."""
        return push_actions.broadcast_audience(store, self.rules)
