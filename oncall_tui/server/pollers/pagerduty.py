"""PagerDuty poller: incidents from the REST API, replayed as webhooks v3 events.

Configure ``url = "https://api.pagerduty.com"`` (or a regional/test endpoint) and a REST API key.

``since``/``until`` on ``GET /incidents`` select incidents by *creation* time, so "changed since
the last poll" cannot be asked directly. Each poll therefore reads:

1. every open incident (``triggered``/``acknowledged``, ``date_range=all``): new ones and the
   acknowledgements of old ones;
2. incidents resolved among those created since the last poll (minus an overlap for clock
   skew): short incidents that opened and closed between two polls;
3. ``GET /incidents/{id}`` for each incident open at the last poll that is in neither list:
   it was resolved (or merged, which resolves it), and this says when.

Each incident becomes one event per fact: ``incident.triggered`` at ``created_at`` (so the
incident opens at the right time even if the poller first sees it acknowledged or resolved) and
``incident.<status>`` at ``last_status_change_at``. An event's ``X-Webhook-Id`` is derived from
incident id, status and time, so repeated polls are stored once and the adapter's identity for
the incident (``pagerduty:<id>``) is the one webhooks use.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeGuard
from urllib.parse import quote

from oncall_tui.config import ConfigError, PollerSettings
from oncall_tui.core.clock import Clock
from oncall_tui.server.pollers.base import (
    ApiClient,
    IngestFn,
    PollerName,
    PollError,
    PollReport,
    Tally,
    feed,
)
from oncall_tui.sources.base import ParseError, parse_time

log = logging.getLogger(__name__)

API_ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGE_LIMIT = 100
"""PagerDuty's largest page."""
MAX_PAGES = 100
"""PagerDuty refuses offsets past 10 000 anyway; this bounds a poll against a runaway ``more``."""
SINCE_OVERLAP = timedelta(minutes=1)
FIRST_LOOKBACK = timedelta(hours=1)
"""On the first poll, resolved incidents created this recently are read too (a restart)."""

OPEN_STATUSES = ("triggered", "acknowledged")
STATUSES = (*OPEN_STATUSES, "resolved")

_COPIED_FIELDS = (
    "id",
    "self",
    "html_url",
    "incident_key",
    "created_at",
    "title",
    "service",
    "escalation_policy",
    "teams",
    "priority",
    "urgency",
    "conference_bridge",
    "resolve_reason",
)
"""REST incident fields that webhooks v3 ``event.data`` carries under the same name."""


def require_token(config: PollerSettings) -> str:
    if config.token is None:
        raise ConfigError(
            "pollers.pagerduty.token is required: a PagerDuty REST API key "
            "(e.g. ONCALL_TUI_POLLERS__PAGERDUTY__TOKEN)"
        )
    return config.token.get_secret_value()


class PagerDutyPoller:
    """Polls ``GET {url}/incidents``. One thread at a time: it keeps the open incident ids."""

    name: PollerName = "pagerduty"

    def __init__(self, config: PollerSettings, ingest: IngestFn, clock: Clock) -> None:
        token = require_token(config)
        self.interval_s = config.interval_s
        self.url = config.url.rstrip("/")
        self._http = ApiClient({"Authorization": f"Token token={token}", "Accept": API_ACCEPT})
        self._service_filter = [("service_ids[]", service) for service in config.service_ids]
        self._ingest = ingest
        self._clock = clock
        self._open: set[str] = set()
        self._last_poll: datetime | None = None

    def poll_once(self) -> PollReport:
        started = self._clock.now()
        since = started - FIRST_LOOKBACK if self._last_poll is None else self._last_poll
        open_now = self._list([*_statuses(OPEN_STATUSES), ("date_range", "all")])
        resolved = self._list([*_statuses(["resolved"]), ("since", _utc(since - SINCE_OVERLAP))])
        incidents = {incident["id"]: incident for incident in [*open_now, *resolved]}
        for incident_id in sorted(self._open - incidents.keys()):
            found = self._get(incident_id)
            if found is not None:
                incidents[incident_id] = found
        events = sorted(
            (event for incident in incidents.values() for event in _events(incident)),
            key=lambda event: event[0],
        )
        tally = Tally()
        for _, webhook_id, envelope in events:
            tally.add(feed(self._ingest, "pagerduty", envelope, {"x-webhook-id": webhook_id}))
        self._open = {i for i, incident in incidents.items() if incident["status"] in OPEN_STATUSES}
        self._last_poll = started
        return tally.report(len(incidents))

    def cancel(self) -> None:
        self._http.cancel()

    def close(self) -> None:
        self._http.close()

    def _list(self, params: list[tuple[str, str]]) -> list[dict[str, Any]]:
        """All pages of ``GET /incidents``: PagerDuty's classic ``offset``/``limit``/``more``."""
        found: list[dict[str, Any]] = []
        offset = 0
        for _ in range(MAX_PAGES):
            page_params = [
                *params,
                *self._service_filter,
                ("limit", str(PAGE_LIMIT)),
                ("offset", str(offset)),
            ]
            page = self._http.get_json(f"{self.url}/incidents", page_params)
            listed = page.get("incidents") if isinstance(page, dict) else None
            if not isinstance(listed, list):
                raise PollError("/incidents returned no 'incidents' list")
            found.extend(incident for incident in listed if _usable(incident))
            if page.get("more") is not True or not listed:
                return found
            offset += len(listed)
        raise PollError(f"/incidents has more than {MAX_PAGES} pages; narrow service_ids")

    def _get(self, incident_id: str) -> dict[str, Any] | None:
        url = f"{self.url}/incidents/{quote(incident_id, safe='')}"
        try:
            payload = self._http.get_json(url)
        except PollError as exc:
            if exc.http_status != 404:
                raise
            log.warning("pagerduty poller: incident %s is gone; no longer followed", incident_id)
            return None
        incident = payload.get("incident") if isinstance(payload, dict) else None
        if not _usable(incident):
            raise PollError(f"/incidents/{incident_id} returned no readable incident")
        return incident


def _statuses(statuses: Iterable[str]) -> list[tuple[str, str]]:
    return [("statuses[]", status) for status in statuses]


def _usable(incident: object) -> TypeGuard[dict[str, Any]]:
    """An incident we can follow: it has an id and one of the three documented statuses."""
    ok = (
        isinstance(incident, dict)
        and isinstance(incident.get("id"), str)
        and bool(incident["id"])
        and incident.get("status") in STATUSES
    )
    if not ok:
        log.warning("pagerduty poller: skipped an unreadable incident: %.200r", incident)
    return ok


def _events(incident: dict[str, Any]) -> list[tuple[datetime, str, dict[str, Any]]]:
    """``(occurred, X-Webhook-Id, envelope)`` for what the incident's current state implies."""
    status: str = incident["status"]
    created = _text(incident, "created_at")
    changed = _text(incident, "last_status_change_at") or _text(incident, "updated_at") or created
    data = _webhook_data(incident)
    facts = [("triggered", created)] if created else []
    if status != "triggered" or changed != created:
        facts.append((status, changed))
    events = []
    for fact_status, occurred in facts:
        try:
            when = parse_time(occurred)
        except ParseError:
            log.warning("pagerduty poller: incident %s has no readable time", incident["id"])
            continue
        webhook_id = f"oncall-poll:{incident['id']}:{fact_status}:{occurred}"
        event = {
            "id": webhook_id,
            "event_type": f"incident.{fact_status}",
            "resource_type": "incident",
            "occurred_at": occurred,
            "data": {**data, "status": fact_status},
        }
        events.append((when, webhook_id, {"event": event}))
    return events


def _webhook_data(incident: dict[str, Any]) -> dict[str, Any]:
    """A REST incident in the shape of webhooks v3 ``event.data``."""
    data: dict[str, Any] = {"type": "incident"}
    data.update({name: incident[name] for name in _COPIED_FIELDS if name in incident})
    if "incident_number" in incident:
        data["number"] = incident["incident_number"]
    assignments = incident.get("assignments")
    if isinstance(assignments, list):
        data["assignees"] = [
            entry["assignee"]
            for entry in assignments
            if isinstance(entry, dict) and isinstance(entry.get("assignee"), dict)
        ]
    return data


def _text(incident: dict[str, Any], name: str) -> str:
    value = incident.get(name)
    return value if isinstance(value, str) else ""


def _utc(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
