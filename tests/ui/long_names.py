"""The demo story plus what makes a layout work hard: long service names and titles, a session
named by a long branch and task, and an incident resolved a moment ago (still listed, dimmed).

Alerts arrive as PagerDuty Events API v2 bodies, shaped as its docs show them
(https://developer.pagerduty.com/docs/events-api-v2/trigger-events/), through the ingest
pipeline as in production; the engineer resolves one, as from the dashboard.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from oncall_tui.actions import Rules
from oncall_tui.actions.incidents import change_incident_state
from oncall_tui.actions.sessions import register
from oncall_tui.actor import engineer
from oncall_tui.config import Settings
from oncall_tui.core.agents import AgentKind
from oncall_tui.core.clock import FixedClock
from oncall_tui.core.models import IncidentState
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from tests.support.samples import SAMPLES
from tests.ui.conftest import NOW, seed

LONG_SERVICE = "customer-identity-verification-gateway-eu-west-1"
LONG_TITLE = (
    "Identity checks p99 latency 4.2s above the 2s objective for 15 minutes"
    " while the upstream document-scanning vendor throttles every request from prod"
)
RESOLVED_SERVICE = "legacy-nightly-settlement-reconciler"
LONG_BRANCH = "fix/processor-retry-budget-after-the-incident-review"
LONG_TASK = "Rework the retry budget of the payment processor client so timeouts stop cascading"
SESSION_UUID = "3f2b8c1e-9a4d-4e7b-b1c2-5d6e7f8a9b0c"


def _trigger(service: str, summary: str, severity: str, dedup_key: str) -> bytes:
    body: dict[str, Any] = json.loads((SAMPLES / "events-v2/trigger.json").read_text())
    body["dedup_key"] = dedup_key
    body["payload"].update(summary=summary, component=service, severity=severity)
    body["payload"]["custom_details"]["service"] = service
    return json.dumps(body).encode()


def seed_long_names(workdir: Path) -> Settings:
    """Seed ``workdir``'s DB with the story and the long names; returns its settings."""
    settings = seed(workdir)
    store = Store.open(settings.db, FixedClock(NOW))
    try:
        ingestor = Ingestor(store, settings)
        for body in (
            _trigger(LONG_SERVICE, LONG_TITLE, "error", "identity/prod/p99"),
            _trigger(
                RESOLVED_SERVICE,
                f"{RESOLVED_SERVICE} missed its 02:30 settlement window",
                "warning",
                "settlement/prod/window",
            ),
        ):
            result = ingestor.ingest("events-v2", body, {}, verify="none")
            assert result.status == "accepted", result.reason
        # Resolved by the engineer: the sender's resolve only counts once its hold has passed.
        (resolved_id,) = store.conn.execute(
            "SELECT id FROM incidents WHERE service = ?", (RESOLVED_SERVICE,)
        ).fetchone()
        change_incident_state(
            store, resolved_id, IncidentState.RESOLVED, engineer(), Rules.from_settings(settings)
        )
        register(
            store,
            Rules.from_settings(settings),
            SESSION_UUID,
            agent=AgentKind.CLAUDE_CODE,
            repo="acme-payments/payments-api",
            cwd="/work/payments-api",
            branch=LONG_BRANCH,
            task=LONG_TASK,
            paths=["services/payments/client.py"],
        )
    finally:
        store.close()
    return settings
