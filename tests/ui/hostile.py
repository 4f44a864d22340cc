"""A dashboard DB where every sender-controlled field carries markup and terminal escapes.

Senders write alert titles, descriptions, annotations, labels (the service label too), runbook
URLs and change summaries; agents write their repo, branch, task and paths; catalogs name
services; people write notes. Each of those fields here holds the hostile corpus, arrived by
the path it takes in production: real-format sender payloads through the ingest pipeline,
sessions, notes and the catalog through the actions the CLI runs.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from oncall_tui.actions import Rules
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.notes import add_note
from oncall_tui.actions.sessions import register
from oncall_tui.config import Settings
from oncall_tui.core.agents import AgentKind, NoteKind
from oncall_tui.core.clock import Clock
from oncall_tui.demo.command import demo_settings
from oncall_tui.ingest.record import Ingestor
from oncall_tui.store.journal import Store
from oncall_tui.store.meta import FENCE_KEY
from tests.support.samples import SAMPLES

STORY_TIME = datetime(2026, 11, 23, 12, 0, 17, tzinfo=UTC)
"""Just after the samples' own timestamps, so their incidents are fresh."""

CORPUS = (
    "api[/]",
    "[link=https://evil.example]click[/link]",
    '[link="https://evil.example"]click[/link]',
    "[@click=app.quit]quit[/]",
    "[bold red]x",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x1b]8;;https://evil.example\x1b\\x\x1b]8;;\x1b\\",
    "\x1b]0;pwned\x07",
    "\x1b[2J",
    "\x9b31m",
    "\u202e",
)
"""Markup that crashes a parser or hides text, and escapes that write the clipboard, set the
title, draw a hyperlink, clear the screen or reverse the text: each must be shown (or dropped)
literally, never interpreted."""
HOSTILE = " ".join(CORPUS)
HOSTILE_SERVICE = "api[/]"
"""A service label as a sender may spell it: the shortest string that breaks markup parsing."""
LINK_SERVICE = '[link="https://evil.example"]svc[/link]'
"""A service label that is well-formed markup: parsed, it draws a hyperlink to the attacker."""
HOSTILE_REPO = "acme/api[/][link=https://evil.example]repo[/link]"
"""Agents' repo names lose their escapes on registration; the markup stays, for the screen."""
DATADOG_TITLE = "[P1] [Triggered] High error rate on payments-api"
"""A Datadog monitor title as integrations forward it: the brackets are the sender's words."""

FORBIDDEN = (
    b"\x1b]8;;https://evil",
    b";https://evil.example",
    b"\x1b]52",
    b"\x1b]0;pwned",
    b"\x9b31m",
    b"\xc2\x9b31m",
)
"""The attacker's sequences in terminal output. The dashboard's own escapes (colours, cursor,
its own OSC queries) are fine; these are not."""


def _sample(relative: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((SAMPLES / relative).read_text())
    return body


def _alertmanager() -> dict[str, Any]:
    body = _sample("alertmanager/firing.json")
    for alert in body["alerts"]:
        alert["labels"].update(
            service=HOSTILE_SERVICE, alertname=HOSTILE, pod=HOSTILE, instance=HOSTILE
        )
        alert["annotations"].update(
            summary=f"{HOSTILE_SERVICE} down {HOSTILE}",
            description=HOSTILE,
            runbook_url=f"https://runbooks.example.com/{HOSTILE}",
        )
        alert["generatorURL"] = f"http://prometheus.example/{HOSTILE}"
    body["commonLabels"]["service"] = HOSTILE_SERVICE
    body["commonAnnotations"]["summary"] = HOSTILE
    return body


def _datadog() -> dict[str, Any]:
    body = _sample("datadog/triggered.json")
    body.update(
        title=f"[P1] [Triggered on {{env:prod,service:{HOSTILE_SERVICE}}}] {HOSTILE}",
        text=HOSTILE,
        service=HOSTILE_SERVICE,
        link=f"https://app.datadoghq.com/event/{HOSTILE}",
    )
    return body


def _events_v2_trigger() -> dict[str, Any]:
    """Datadog's PagerDuty integration forwards the monitor title as the event summary."""
    body = _sample("events-v2/trigger.json")
    body["dedup_key"] = "payments-api/prod/errors"
    body["payload"].update(summary=DATADOG_TITLE, component="payments-api")
    body["payload"]["custom_details"]["service"] = "payments-api"
    body["links"] = [{"href": f"https://grafana.example/{HOSTILE}", "text": HOSTILE}]
    return body


def _events_v2_change() -> dict[str, Any]:
    body = _sample("events-v2/change_deploy.json")
    body["payload"].update(summary=f"Deploy {HOSTILE}", source=HOSTILE)
    body["payload"]["custom_details"].update(service=HOSTILE_SERVICE, triggered_by=HOSTILE)
    body["links"] = [{"href": f"https://argocd.example/{HOSTILE}", "text": HOSTILE}]
    return body


def _grafana() -> dict[str, Any]:
    body = _sample("grafana/firing.json")
    for alert in body["alerts"]:
        alert["labels"]["service"] = LINK_SERVICE
        alert["annotations"].update(summary=f"{LINK_SERVICE} slow", description=HOSTILE)
    body["commonLabels"]["service"] = LINK_SERVICE
    body.update(title=HOSTILE, message=HOSTILE)
    return body


def critical_alert(service: str, dedup_key: str) -> bytes:
    """An Events API v2 trigger for ``service``, whatever bytes its name holds."""
    body = _sample("events-v2/trigger.json")
    body["dedup_key"] = dedup_key
    body["payload"].update(summary=f"{service} down {HOSTILE}", component=service)
    body["payload"]["custom_details"]["service"] = service
    return json.dumps(body).encode()


def _catalog(path: Path) -> Path:
    """Our YAML format, written as JSON (a YAML subset) so every escape survives verbatim."""
    services = {
        HOSTILE_SERVICE: {
            "repo": HOSTILE_REPO,
            "paths": ["**"],
            "owners": [HOSTILE],
            "runbooks": [{"url": f"https://runbooks.example.com/{HOSTILE}", "title": HOSTILE}],
            "description": HOSTILE,
        },
        "payments-api": {
            "repo": "acme-payments/payments-api",
            "paths": ["services/payments/**"],
            "depends_on": [HOSTILE_SERVICE],
            "description": HOSTILE,
        },
    }
    path.write_text(json.dumps({"services": services}))
    return path


def seed_hostile(workdir: Path, clock: Clock) -> Settings:
    """Seed ``workdir``'s DB; returns the settings the dashboard runs with."""
    settings = demo_settings(workdir)
    rules = Rules.from_settings(settings)
    store = Store.open(settings.db, clock)
    try:
        with store.write() as writer:
            writer.conn.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)", (FENCE_KEY, "ab" * 32)
            )
        load_catalog_file(store, rules, _catalog(workdir / "catalog.yaml"), actor="user:lead")
        ingestor = Ingestor(store, settings)
        for source, body in (
            ("alertmanager", json.dumps(_alertmanager()).encode()),
            ("datadog", json.dumps(_datadog()).encode()),
            ("events-v2", json.dumps(_events_v2_trigger()).encode()),
            ("grafana", json.dumps(_grafana()).encode()),
            ("events-v2", critical_alert(HOSTILE, "hostile/escapes")),
            ("events-v2", json.dumps(_events_v2_change()).encode()),
        ):
            result = ingestor.ingest(source, body, {}, verify="none")
            assert result.status == "accepted", (source, result.reason)
        for number, repo in enumerate((HOSTILE_REPO, "acme-payments/payments-api", HOSTILE)):
            register(
                store,
                rules,
                f"hostile-{number}",
                agent=AgentKind.CLAUDE_CODE,
                repo=repo,
                cwd=f"/work/{HOSTILE}",
                branch=HOSTILE,
                task=HOSTILE,
                paths=[f"services/payments/{HOSTILE}.py", f"src/{HOSTILE}"],
            )
        incident_ids = [
            row[0] for row in store.conn.execute("SELECT id FROM incidents ORDER BY id")
        ]
        for incident_id in incident_ids:
            add_note(
                store,
                author=f"user:{HOSTILE}",
                kind=NoteKind.DECISION,
                text=HOSTILE,
                incident_id=incident_id,
                rationale=HOSTILE,
            )
        add_note(
            store,
            author="user:lead",
            kind=NoteKind.WARNING,
            text=HOSTILE,
            service=HOSTILE_SERVICE,
            rationale=HOSTILE,
        )
    finally:
        store.close()
    return settings
