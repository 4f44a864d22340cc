"""Builders for test data: signals with sensible defaults, and a journal held in memory."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from oncall_tui.core import incidents, projection, pushes
from oncall_tui.core.agents import AgentKind, AgentSession
from oncall_tui.core.clock import iso
from oncall_tui.core.journal import (
    CatalogLoaded,
    JournalBody,
    JournalEntry,
    SessionRegistered,
)
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import Severity, Signal, SignalKind, SignalStatus
from oncall_tui.core.topology import Service
from oncall_tui.store.journal import Writer

T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def make_signal(
    alert: str = "a1",
    *,
    status: SignalStatus = SignalStatus.FIRING,
    minute: float = 0,
    service: str | None = "payment-processor",
    severity: Severity = Severity.CRITICAL,
    kind: SignalKind = SignalKind.ALERT,
    source: str = "alertmanager",
    title: str | None = None,
) -> Signal:
    return Signal(
        source=source,
        kind=kind,
        service=service,
        severity=severity,
        status=status,
        title=title or f"{alert} on {service}",
        occurred_at=at(minute),
        received_at=at(minute),
        delivery_key=f"d-{alert}-{status.value}-{minute}",
        alert_key=alert,
    )


class MemoryJournal:
    """The live path without SQLite: append, fold, decide — as the ingest pipeline does."""

    def __init__(self, rules: incidents.GroupingRules | None = None) -> None:
        self.tables = MemoryTables()
        self.entries: list[JournalEntry] = []
        self.rules = rules or incidents.GroupingRules()

    def append(self, body: JournalBody, actor: str, *, text: str | None = None) -> JournalEntry:
        # No rows here: a text spelled ahead has nowhere to go.
        entry = JournalEntry.of(len(self.entries) + 1, T0, actor, body)
        projection.apply(entry, self.tables)
        self.entries.append(entry)
        return entry

    def record(self, signal: Signal) -> list[str] | None:
        return incidents.record_signal(signal, self.append, self.tables, self.rules)

    def reconcile(
        self, incident_id: str, policy: pushes.Policy | None = None, minute: float = 0
    ) -> list[str]:
        """Apply what the push engine decides; returns the kinds appended."""
        events = pushes.reconcile(
            incident_id, self.tables, policy or pushes.Policy(), pushes.SessionTiming(), at(minute)
        )
        for event in events:
            self.append(event, "engine")
        return [event.KIND for event in events]

    def load_catalog(self, services: list[Service]) -> None:
        self.append(CatalogLoaded({s.name: s for s in services}), "test")

    def register(
        self, session_id: str, repo: str | None, paths: list[str], minute: float = 0
    ) -> None:
        session = AgentSession(
            id=session_id,
            agent=AgentKind.CLAUDE_CODE,
            repo=repo,
            paths=paths,
            first_seen=at(minute),
            last_seen=at(minute),
        )
        self.append(SessionRegistered(session), "test")


PAYMENTS_CATALOG = [
    Service(name="payment-processor", repo="acme/payments", paths=["services/processor/**"]),
    Service(
        name="payments-api",
        repo="acme/payments",
        paths=["services/payments/**"],
        depends_on=["payment-processor"],
    ),
    Service(name="checkout", repo="acme/checkout", paths=["web/**"], depends_on=["payments-api"]),
    Service(name="search", repo="acme/search", paths=["**"]),
]


def append_stored(
    writer: Writer, kind: str, body: dict[str, Any], actor: str, ts: datetime = T0
) -> JournalEntry:
    """Write a row with exactly this kind and JSON, as an older version may have written it,
    and fold it as reading it back would (decoded from the stored JSON)."""
    text = json.dumps(body, separators=(",", ":"), sort_keys=True)
    cursor = writer.conn.execute(
        "INSERT INTO journal (ts, actor, kind, body) VALUES (?, ?, ?, ?)",
        (iso(ts), actor, kind, text),
    )
    assert cursor.lastrowid is not None
    entry = JournalEntry(cursor.lastrowid, ts, actor, kind, json.loads(text))
    projection.apply(entry, writer.tables)
    return entry
