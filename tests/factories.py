"""Builders for test data: signals with sensible defaults, and a journal held in memory."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from oncall_tui.core import incidents, projection, pushes
from oncall_tui.core.agents import AgentKind, AgentSession
from oncall_tui.core.memory import MemoryTables
from oncall_tui.core.models import JournalEntry, Severity, Signal, SignalKind, SignalStatus
from oncall_tui.core.topology import Service

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

    def append(self, kind: str, body: dict[str, Any], actor: str) -> JournalEntry:
        entry = JournalEntry(seq=len(self.entries) + 1, ts=T0, actor=actor, kind=kind, body=body)
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
        for kind, body in events:
            self.append(kind, body, "engine")
        return [kind for kind, _ in events]

    def load_catalog(self, services: list[Service]) -> None:
        self.append(
            "catalog.loaded",
            {"services": {s.name: s.model_dump(mode="json") for s in services}},
            "test",
        )

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
        self.append("session.registered", {"session": session.model_dump(mode="json")}, "test")


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
