"""CloudEvents 1.0 over HTTP: the generic envelope for circuit breakers and other one-off senders.

No standard webhook exists for circuit breakers, but some arrive as cloud events (Azure API
Management's ``Microsoft.ApiManagement.CircuitBreaker.Opened/Closed``). Both HTTP content modes
are read: *structured*, where the JSON body is the whole event, and *binary*, where the attributes
travel in ``ce-*`` headers and the body is the event's data. The spec lets consumers treat events
with identical ``source`` and ``id`` as duplicates, so that pair is the delivery identity.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import unquote

from oncall_tui.core.models import Severity, Signal, SignalKind, SignalStatus
from oncall_tui.sources.base import (
    ParseError,
    RawDelivery,
    ServiceMapping,
    body_key,
    load_json,
    parse_time,
    require_object,
    string_map,
    text_field,
)

_REQUIRED = ("specversion", "id", "source", "type")
_ATTRIBUTES = (*_REQUIRED, "subject", "time")

_STATE_SUFFIXES = frozenset(
    {"open", "opened", "close", "closed", "resolved", "recovered", "triggered", "fired"}
)
"""Last type segments that name a state, dropped so both ends of a lifecycle share a key."""


class CloudEventsSource:
    """Adapter for ``POST /webhooks/cloudevents``."""

    name: str = "cloudevents"
    signature_header: str | None = None

    def verify(self, delivery: RawDelivery, secret: str, now: datetime) -> None:
        """CloudEvents defines no signature; the receiver authenticates by bearer token."""

    def delivery_key(self, delivery: RawDelivery) -> str:
        try:
            attributes, _ = _read(delivery)
        except ParseError:
            return f"cloudevents:{body_key(delivery.body)}"
        return _delivery_key(attributes)

    def parse(self, delivery: RawDelivery, mapping: ServiceMapping) -> list[Signal]:
        attributes, raw_data = _read(delivery)
        data: dict[str, Any] = raw_data if isinstance(raw_data, dict) else {}
        event_type = attributes["type"]
        subject = attributes["subject"]
        kind, status = _classify(event_type)
        default_severity = Severity.INFO if kind.is_change else Severity.WARNING
        title = next(
            (text_field(data, k) for k in ("title", "summary", "message") if text_field(data, k)),
            event_type,
        )
        identity = subject or text_field(data, "id") or _type_stem(event_type)
        labels = {
            **string_map(data),
            "ce_type": event_type,
            "ce_source": attributes["source"],
            **({"ce_subject": subject} if subject else {}),
        }
        signal = Signal(
            source=self.name,
            kind=kind,
            service=_service(data, subject, mapping),
            environment=text_field(data, "environment") or text_field(data, "env") or None,
            severity=Severity.parse(text_field(data, "severity"), default=default_severity),
            status=status,
            title=title,
            labels=labels,
            occurred_at=parse_time(attributes["time"] or None, delivery.received_at),
            received_at=delivery.received_at,
            delivery_key=_delivery_key(attributes),
            alert_key=f"cloudevents:{attributes['source']}:{identity}",
            delivery_id=delivery.id,
        )
        return [signal]


def _read(delivery: RawDelivery) -> tuple[dict[str, str], Any]:
    """The event's context attributes and its data, from whichever content mode was used."""
    content_type = (delivery.header("content-type") or "").lower()
    if delivery.header("ce-specversion") is not None:
        # Binary mode: header values are percent-encoded outside printable ASCII.
        attributes = {
            name: unquote(delivery.header(f"ce-{name}") or "").strip() for name in _ATTRIBUTES
        }
        is_json = not content_type or "json" in content_type
        data = load_json(delivery.body) if is_json and delivery.body.strip() else None
    else:
        if "cloudevents-batch" in content_type:
            raise ParseError("batched CloudEvents are not supported: send one event per request")
        event = require_object(load_json(delivery.body), "CloudEvent")
        attributes = {name: text_field(event, name) for name in _ATTRIBUTES}
        data = event.get("data")
    for name in _REQUIRED:
        if not attributes[name]:
            raise ParseError(f"missing CloudEvents attribute {name!r}")
    if attributes["specversion"] != "1.0":
        raise ParseError(f"unsupported CloudEvents specversion {attributes['specversion'][:16]!r}")
    return attributes, data


def _delivery_key(attributes: dict[str, str]) -> str:
    return f"cloudevents:{attributes['source']}:{attributes['id']}"


def _classify(event_type: str) -> tuple[SignalKind, SignalStatus]:
    """Kind and status from the type alone: the one attribute every producer must set."""
    text = event_type.lower()
    if "breaker" in text:
        # Whichever state the type names last wins: ``closed_to_open`` means it opened.
        closed = text.rfind("close") > text.rfind("open")
        return SignalKind.BREAKER, SignalStatus.RESOLVED if closed else SignalStatus.FIRING
    if any(word in text for word in ("rollback", "rolledback", "rolled_back")):
        return SignalKind.ROLLBACK, SignalStatus.SUCCESS
    if "deploy" in text:
        return SignalKind.DEPLOY, SignalStatus.SUCCESS
    if text.endswith(("resolved", "recovered")):
        return SignalKind.ALERT, SignalStatus.RESOLVED
    return SignalKind.ALERT, SignalStatus.FIRING


def _type_stem(event_type: str) -> str:
    head, dot, last = event_type.rpartition(".")
    return head if dot and last.lower() in _STATE_SUFFIXES else event_type


def _service(data: dict[str, Any], subject: str, mapping: ServiceMapping) -> str | None:
    labels = string_map(data)
    nested = data.get("service")
    if isinstance(nested, dict) and text_field(nested, "name"):
        labels.setdefault("service.name", text_field(nested, "name"))
    # ``backendName`` is how Azure API Management names the backend whose breaker tripped.
    named = text_field(data, "serviceName") or text_field(data, "backendName")
    return mapping.resolve(labels, fallback=named or subject or None)


SOURCE = CloudEventsSource()
