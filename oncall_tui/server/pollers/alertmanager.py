"""Alertmanager poller: the API's current alerts, replayed as one webhook v4 message.

The message is what Alertmanager's webhook notifier would send for those alerts, so the
Alertmanager adapter reads it unchanged and gives each alert the same identity
(``fingerprint`` + ``startsAt``) as a real webhook. The API only lists alerts that have not
ended, so an alert we reported firing that is gone from the list is reported resolved, once,
with the poll time as its end.

We ask for silenced and inhibited alerts too, and only report the active ones as firing: an alert
that someone silences during an incident is muted, not resolved, and must not make the incident
look over (and send agents a stand-down) while the problem persists.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from oncall_tui.config import PollerSettings
from oncall_tui.core.clock import Clock, iso
from oncall_tui.server.pollers.base import (
    ApiClient,
    IngestFn,
    PollerName,
    PollError,
    PollReport,
    Tally,
    display_url,
    feed,
)
from oncall_tui.sources.alertmanager import label_fingerprint

log = logging.getLogger(__name__)

ALERTS_PATH = "/api/v2/alerts"
QUERY = [
    ("active", "true"),
    ("silenced", "true"),
    ("inhibited", "true"),
    ("unprocessed", "true"),
]
"""Every alert that has not ended: which of them are firing is decided per alert (see above)."""

GO_ZERO_TIME = "0001-01-01T00:00:00Z"
"""What Alertmanager's webhook puts in ``endsAt`` of a firing alert: it hides a future end."""

RECEIVER = "oncall-tui-poller"

AlertId = tuple[str, str]
"""``(fingerprint, startsAt)``: the alert identity the adapter keys on."""


class AlertmanagerPoller:
    """Polls ``GET {url}/api/v2/alerts``. One thread at a time: it keeps the open alerts."""

    name: PollerName = "alertmanager"

    def __init__(self, config: PollerSettings, ingest: IngestFn, clock: Clock) -> None:
        self.interval_s = config.interval_s
        self.url = config.url.rstrip("/")
        self.group_key = f"poller:{display_url(self.url)}"
        """Stands in for Alertmanager's group key; fixed per URL so unchanged polls dedup."""
        token = config.token.get_secret_value() if config.token is not None else None
        self._http = ApiClient({"Authorization": f"Bearer {token}"} if token else {})
        self._ingest = ingest
        self._clock = clock
        self._open: dict[AlertId, dict[str, Any]] = {}
        """Alerts reported firing and not yet reported resolved, as last sent."""

    def poll_once(self) -> PollReport:
        listed = self._http.get_json(self.url + ALERTS_PATH, QUERY)
        if not isinstance(listed, list):
            raise PollError(f"{ALERTS_PATH} returned {type(listed).__name__}, expected a list")
        present: dict[AlertId, dict[str, Any]] = {}
        firing: dict[AlertId, dict[str, Any]] = {}
        for item in listed:
            alert = _webhook_alert(item)
            if alert is None:
                log.warning("alertmanager poller: skipped an unreadable alert: %.200r", item)
                continue
            key = (alert["fingerprint"], alert["startsAt"])
            present[key] = alert
            if _state(item) != "suppressed":
                firing[key] = alert
        ended_at = iso(self._clock.now())
        resolved = [
            {**alert, "status": "resolved", "endsAt": ended_at}
            for key, alert in self._open.items()
            if key not in present
        ]
        tally = Tally()
        alerts = sorted([*firing.values(), *resolved], key=_order)
        if alerts:
            tally.add(feed(self._ingest, "alertmanager", self._message(alerts), {}))
        # Muted alerts stay open: they resolve when they leave the list, not when muted.
        still_open = {key: alert for key, alert in self._open.items() if key in present}
        self._open = {**still_open, **firing}
        return tally.report(len(listed))

    def cancel(self) -> None:
        self._http.cancel()

    def close(self) -> None:
        self._http.close()

    def _message(self, alerts: list[dict[str, Any]]) -> dict[str, Any]:
        any_firing = any(alert["status"] == "firing" for alert in alerts)
        return {
            "version": "4",
            "groupKey": self.group_key,
            "truncatedAlerts": 0,
            "receiver": RECEIVER,
            "status": "firing" if any_firing else "resolved",
            "alerts": alerts,
            "groupLabels": {},
            "commonLabels": _common(alert["labels"] for alert in alerts),
            "commonAnnotations": _common(alert["annotations"] for alert in alerts),
            "externalURL": display_url(self.url),
        }


def _webhook_alert(item: Any) -> dict[str, Any] | None:
    """One gettable alert of the API as a firing alert of the webhook, or None if unusable."""
    if not isinstance(item, dict):
        return None
    labels = _strings(item.get("labels"))
    starts_at = item.get("startsAt")
    if not labels or not isinstance(starts_at, str) or not starts_at:
        return None
    fingerprint = item.get("fingerprint")
    generator_url = item.get("generatorURL")
    return {
        "status": "firing",
        "labels": labels,
        "annotations": _strings(item.get("annotations")),
        "startsAt": starts_at,
        "endsAt": GO_ZERO_TIME,
        "generatorURL": generator_url if isinstance(generator_url, str) else "",
        "fingerprint": fingerprint
        if isinstance(fingerprint, str) and fingerprint
        else label_fingerprint(labels),
    }


def _state(item: dict[str, Any]) -> str:
    status = item.get("status")
    state = status.get("state") if isinstance(status, dict) else None
    return state if isinstance(state, str) else "active"


def _strings(value: Any) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items() if isinstance(v, str)}


def _common(maps: Iterable[dict[str, str]]) -> dict[str, str]:
    """The pairs every map shares, as Alertmanager computes ``commonLabels``."""
    common: dict[str, str] | None = None
    for mapping in maps:
        common = (
            dict(mapping)
            if common is None
            else {k: v for k, v in common.items() if mapping.get(k) == v}
        )
    return common or {}


def _order(alert: dict[str, Any]) -> tuple[str, str, str]:
    return (alert["fingerprint"], alert["startsAt"], alert["status"])
