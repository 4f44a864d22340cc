"""PagerDuty webhooks v3: incident lifecycle events from a webhook subscription.

PagerDuty signs the raw body with every active subscription secret and sends the results side by
side (``v1=<hex>,v1=<hex>``), so during a secret rotation the one we hold may be either of them.
Each payload carries exactly one event, and the event's ``id`` is its identity: it is inside the
signed body, so a captured delivery sent again under a new ``X-Webhook-Id`` is still the same
delivery (https://developer.pagerduty.com/docs/webhooks-overview, "Webhook Payload": ``event.id``
is "the unique id of the event"). ``X-Webhook-Id`` only identifies bodies without one.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from oncall_tui.core.models import Link, Severity, Signal, SignalKind, SignalStatus
from oncall_tui.sources.base import (
    AuthError,
    ParseError,
    RawDelivery,
    ServiceMapping,
    body_key,
    digest_matches,
    hmac_sha256_hex,
    load_json,
    parse_time,
    require_object,
    text_field,
)

_LIFECYCLE: dict[str, SignalStatus] = {
    "incident.triggered": SignalStatus.FIRING,
    "incident.unacknowledged": SignalStatus.FIRING,
    "incident.reopened": SignalStatus.FIRING,
    "incident.acknowledged": SignalStatus.ACKNOWLEDGED,
    "incident.resolved": SignalStatus.RESOLVED,
}
"""Events that change the incident's state, and the state they leave it in."""

_INFORMATIONAL = frozenset(
    {
        "incident.escalated",
        "incident.reassigned",
        "incident.delegated",
        "incident.priority_updated",
        "incident.annotated",
        "incident.responder.added",
        "incident.responder.replied",
        "incident.status_update_published",
    }
)
"""Events that say something about an incident without changing its state."""

_STATUS_BY_INCIDENT_STATE = {
    "triggered": SignalStatus.FIRING,
    "acknowledged": SignalStatus.ACKNOWLEDGED,
    "resolved": SignalStatus.RESOLVED,
}

_URGENCY = {"high": Severity.ERROR, "low": Severity.WARNING}


class PagerDutySource:
    """Adapter for ``POST /webhooks/pagerduty``."""

    name: str = "pagerduty"
    signature_header: str | None = "x-pagerduty-signature"

    def verify(self, delivery: RawDelivery, secret: str, now: datetime) -> None:
        """Accept if any ``v1=`` value matches; other schemes are PagerDuty's future versions."""
        header = (delivery.header("x-pagerduty-signature") or "").strip()
        if not header:
            raise AuthError("missing X-PagerDuty-Signature header", 401)
        candidates = [
            part.strip()[3:] for part in header.split(",") if part.strip().startswith("v1=")
        ]
        if not digest_matches(hmac_sha256_hex(secret, delivery.body), candidates):
            raise AuthError("X-PagerDuty-Signature does not match the body", 403)

    def delivery_key(self, delivery: RawDelivery) -> str:
        """The signed ``event.id``; else the unsigned header; else the bytes themselves."""
        try:
            event_id = text_field(_event(delivery.body), "id")
        except ParseError:
            event_id = ""
        return _delivery_key(event_id, delivery)

    def parse(self, delivery: RawDelivery, mapping: ServiceMapping) -> list[Signal]:
        event = _event(delivery.body)
        event_type = text_field(event, "event_type")
        if event_type not in _LIFECYCLE and event_type not in _INFORMATIONAL:
            raise ParseError(f"unsupported event type {event_type[:64]!r}")
        data = require_object(event.get("data"), "event.data")
        # Notes, responders and status updates carry a reference to their incident, not the
        # incident itself; the incident's own id is what ties them to the rest of its lifecycle.
        is_incident = text_field(data, "type", "incident") == "incident"
        incident = require_object(
            data if is_incident else data.get("incident"), "event.data.incident"
        )
        incident_id = text_field(incident, "id")
        if not incident_id:
            raise ParseError("event.data has no incident id")
        service = incident.get("service")
        service_name = text_field(service, "summary") if isinstance(service, dict) else ""
        labels = {
            "event_type": event_type,
            "incident_key": text_field(incident, "incident_key"),
            "incident_number": text_field(incident, "number"),
        }
        html_url = text_field(incident, "html_url")
        signal = Signal(
            source=self.name,
            kind=SignalKind.INCIDENT,
            service=mapping.resolve({}, fallback=service_name or None),
            severity=_severity(incident),
            status=_status(event_type, incident),
            title=text_field(incident, "title") or text_field(incident, "summary") or incident_id,
            text=text_field(data, "content") or text_field(data, "message"),
            labels={key: value for key, value in labels.items() if value},
            links=[Link(href=html_url, text="PagerDuty incident")] if _is_web(html_url) else [],
            occurred_at=parse_time(event.get("occurred_at"), delivery.received_at),
            received_at=delivery.received_at,
            delivery_key=_delivery_key(text_field(event, "id"), delivery),
            alert_key=f"pagerduty:{incident_id}",
            delivery_id=delivery.id,
        )
        return [signal]


def _delivery_key(event_id: str, delivery: RawDelivery) -> str:
    if event_id:
        return f"pagerduty:event:{event_id}"
    webhook_id = (delivery.header("x-webhook-id") or "").strip()
    if webhook_id:
        return f"pagerduty:{webhook_id}"
    return f"pagerduty:{body_key(delivery.body)}"


def _event(body: bytes) -> dict[str, Any]:
    return require_object(require_object(load_json(body)).get("event"), "event")


def _status(event_type: str, incident: dict[str, Any]) -> SignalStatus:
    # Informational events on incident data still carry the incident's state: a reassignment of
    # an acknowledged incident must not make it look freshly triggered. Notes and responder
    # events carry none: they are notices, which never change an incident's state.
    found = _LIFECYCLE.get(event_type)
    if found is not None:
        return found
    return _STATUS_BY_INCIDENT_STATE.get(text_field(incident, "status"), SignalStatus.NOTICE)


def _severity(incident: dict[str, Any]) -> Severity:
    """Priority (P1..P5) when the account uses priorities, else the incident's urgency."""
    by_urgency = _URGENCY.get(text_field(incident, "urgency"), Severity.WARNING)
    priority = incident.get("priority")
    if isinstance(priority, dict):
        return Severity.parse(text_field(priority, "summary"), default=by_urgency)
    return by_urgency


def _is_web(href: str) -> bool:
    return href.startswith(("https://", "http://"))


SOURCE = PagerDutySource()
