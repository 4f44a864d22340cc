"""Notes for the notes screen: an agent's proposal over an accepted note, a new agent note
whose text looks like markup, a note past its review date, and a current one."""

from __future__ import annotations

from datetime import timedelta

from oncall_tui.actions.notes import add_note
from oncall_tui.config import Settings
from oncall_tui.core.agents import NoteKind
from oncall_tui.core.clock import FixedClock
from oncall_tui.store.journal import Store
from tests.ui.conftest import NOW

AGENT = "agent:claude-code:s-payments-1"


def seed_notes(settings: Settings) -> None:
    store = Store.open(settings.db, FixedClock(NOW - timedelta(hours=2)))
    try:
        timeout = add_note(
            store,
            author="user:alice",
            kind=NoteKind.DECISION,
            text="The 2 s timeout in client.py is the processor's circuit breaker.\nDo not remove it.",
            service="payments-api",
            rationale="The processor drops connections after 2 s under load.",
        )
        add_note(
            store,
            author="user:bob",
            kind=NoteKind.RUNBOOK,
            text="Restart the ledger consumer before replaying the dead-letter queue.",
            service="ledger",
            review_by=NOW - timedelta(days=1),
        )
        add_note(
            store,
            author="user:alice",
            kind=NoteKind.WARNING,
            text="Checkout pins the card SDK to 4.x.",
            service="checkout",
        )
        add_note(
            store,
            author=AGENT,
            kind=NoteKind.DECISION,
            text="The 2 s timeout in client.py is the processor's circuit breaker.\n"
            "Raised to 3 s after the processor's 2026-11 change; do not remove it.",
            service="payments-api",
            rationale="The processor now allows 3 s.",
            agent_authored=True,
            supersedes=timeout.id,
        )
        add_note(
            store,
            author=AGENT,
            kind=NoteKind.WARNING,
            text="[bold red]Retries[/] double-charge when idempotency keys are off.",
            service="payments-api",
            agent_authored=True,
        )
    finally:
        store.close()
