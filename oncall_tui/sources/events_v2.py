"""PagerDuty Events API v2 shapes, accepted as our generic inbound format.

Many tools already emit these (CI plugins, Ansible's ``pagerduty_change``, ``pd event``), so
pointing them at us needs no new code. Alert events (``event_action`` trigger/acknowledge/resolve)
become alerts keyed by ``dedup_key``; change events (a ``payload`` and no ``event_action``) become
deploys or rollbacks. Nothing is signed: the receiver authenticates these by bearer token.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncall_tui.core.models import Link, Severity, Signal, SignalKind, SignalStatus
from oncall_tui.sources.base import (
    ParseError,
    RawDelivery,
    ServiceMapping,
    body_key,
    content_key,
    load_json,
    parse_time,
    require_object,
    string_map,
    text_field,
)

MAX_SUMMARY_CHARS = 1024
MAX_DEDUP_KEY_CHARS = 255
"""PagerDuty's documented limits; a sender that exceeds them would be refused there too."""

_ACTIONS = {
    "trigger": SignalStatus.FIRING,
    "acknowledge": SignalStatus.ACKNOWLEDGED,
    "resolve": SignalStatus.RESOLVED,
}
_SEVERITIES = {s.value: s for s in Severity}
"""Events v2 severities are exactly our four levels, by the same names."""


class EventsV2Source:
    """Adapter for ``POST /webhooks/events-v2``."""

    name: str = "events-v2"
    signature_header: str | None = None

    def verify(self, delivery: RawDelivery, secret: str, now: datetime) -> None:
        """Events v2 carries no signature; the bearer token is checked by the receiver."""

    def delivery_key(self, delivery: RawDelivery) -> str:
        # No delivery id exists in this format: identical bytes are the same delivery.
        return f"events-v2:{body_key(delivery.body)}"

    def parse(self, delivery: RawDelivery, mapping: ServiceMapping) -> list[Signal]:
        event = require_object(load_json(delivery.body))
        if "event_action" in event:
            return [self._alert(event, delivery, mapping)]
        if "payload" in event:
            return [self._change(event, delivery, mapping)]
        raise ParseError("neither an alert event (event_action) nor a change event (payload)")

    def _alert(
        self, event: dict[str, Any], delivery: RawDelivery, mapping: ServiceMapping
    ) -> Signal:
        action = text_field(event, "event_action")
        status = _ACTIONS.get(action)
        if status is None:
            raise ParseError(f"unsupported event_action {action[:32]!r}")
        dedup_key = text_field(event, "dedup_key")
        if len(dedup_key) > MAX_DEDUP_KEY_CHARS:
            raise ParseError(f"dedup_key longer than {MAX_DEDUP_KEY_CHARS} characters")
        # Acknowledge and resolve events usually carry no payload at all.
        raw_payload = event.get("payload")
        payload = {} if raw_payload is None else require_object(raw_payload, "payload")
        summary = _summary(payload, required=status is SignalStatus.FIRING)
        details = _details(payload)
        if status is SignalStatus.FIRING:
            severity = _trigger_severity(payload)
            # PagerDuty would mint a random key; a derived one keeps retries idempotent and lets
            # repeats of the same problem collapse onto one alert.
            dedup_key = dedup_key or content_key(
                text_field(event, "routing_key"), summary, text_field(payload, "source")
            )
        elif not dedup_key:
            raise ParseError(f"{action} event without dedup_key")
        else:
            severity = Severity.parse(text_field(payload, "severity"))
        labels = {
            "event_action": action,
            "component": text_field(payload, "component"),
            "group": text_field(payload, "group"),
            "class": text_field(payload, "class"),
        }
        return Signal(
            source=self.name,
            kind=SignalKind.BREAKER if _is_breaker(payload, details) else SignalKind.ALERT,
            service=_service(payload, details, mapping),
            environment=_environment(details),
            severity=severity,
            status=status,
            title=summary or f"{action} {dedup_key}",
            labels={**details, **{k: v for k, v in labels.items() if v}},
            links=_links(event),
            occurred_at=parse_time(payload.get("timestamp"), delivery.received_at),
            received_at=delivery.received_at,
            delivery_key=self.delivery_key(delivery),
            alert_key=f"events-v2:{dedup_key}",
            delivery_id=delivery.id,
        )

    def _change(
        self, event: dict[str, Any], delivery: RawDelivery, mapping: ServiceMapping
    ) -> Signal:
        payload = require_object(event.get("payload"), "payload")
        summary = _summary(payload, required=True)
        details = _details(payload)
        kind_hint = f"{details.get('type', '')} {details.get('kind', '')}".lower()
        rollback = "rollback" in kind_hint or _says_rollback(summary)
        source = text_field(payload, "source")
        timestamp = text_field(payload, "timestamp")
        identity = content_key(text_field(event, "routing_key"), summary, source, timestamp)
        return Signal(
            source=self.name,
            kind=SignalKind.ROLLBACK if rollback else SignalKind.DEPLOY,
            service=_service(payload, details, mapping),
            environment=_environment(details),
            severity=Severity.INFO,
            status=SignalStatus.SUCCESS,
            title=summary,
            labels={**details, "source": source} if source else details,
            links=_links(event),
            occurred_at=parse_time(payload.get("timestamp"), delivery.received_at),
            received_at=delivery.received_at,
            delivery_key=self.delivery_key(delivery),
            # Change events have no identity of their own: each distinct change is its own key.
            alert_key=f"events-v2:change:{identity}",
            delivery_id=delivery.id,
        )


def _summary(payload: dict[str, Any], *, required: bool) -> str:
    summary = text_field(payload, "summary")
    if required and not summary:
        raise ParseError("missing payload.summary")
    if len(summary) > MAX_SUMMARY_CHARS:
        raise ParseError(f"payload.summary longer than {MAX_SUMMARY_CHARS} characters")
    return summary


def _trigger_severity(payload: dict[str, Any]) -> Severity:
    """A trigger must name its source and one of the four documented severities."""
    if not text_field(payload, "source"):
        raise ParseError("trigger event without payload.source")
    severity = _SEVERITIES.get(text_field(payload, "severity"))
    if severity is None:
        raise ParseError("payload.severity must be one of critical, error, warning, info")
    return severity


def _details(payload: dict[str, Any]) -> dict[str, str]:
    return string_map(payload.get("custom_details"))


def _service(
    payload: dict[str, Any], details: dict[str, str], mapping: ServiceMapping
) -> str | None:
    fallback = text_field(payload, "component") or text_field(payload, "source")
    return mapping.resolve(details, fallback=fallback or None)


def _environment(details: dict[str, str]) -> str | None:
    return details.get("environment") or details.get("env") or None


def _is_breaker(payload: dict[str, Any], details: dict[str, str]) -> bool:
    hints = (text_field(payload, "class"), details.get("type", ""), details.get("kind", ""))
    return any("breaker" in hint.lower() for hint in hints)


def _says_rollback(summary: str) -> bool:
    text = summary.lower()
    return any(word in text for word in ("rollback", "roll back", "rolled back", "revert"))


def _links(event: dict[str, Any]) -> list[Link]:
    """``links[]`` plus ``client_url``; only web links, since a terminal may make them clickable."""
    raw = event.get("links")
    candidates = [item for item in raw if isinstance(item, dict)] if isinstance(raw, list) else []
    candidates.append({"href": event.get("client_url"), "text": event.get("client")})
    return [
        Link(href=text_field(item, "href"), text=text_field(item, "text"))
        for item in candidates
        if text_field(item, "href").startswith(("https://", "http://"))
    ]


SOURCE = EventsV2Source()
