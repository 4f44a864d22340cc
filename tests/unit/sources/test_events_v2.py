from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from oncall_tui.core.models import Link, Severity, SignalKind, SignalStatus
from oncall_tui.sources import get_source
from oncall_tui.sources.base import ParseError, ServiceMapping
from oncall_tui.sources.events_v2 import SOURCE
from tests.unit.sources.conftest import RECEIVED, Adapter

MAPPING = ServiceMapping()


EVENTS_V2 = Adapter("events-v2", {"content-type": "application/json"})


def trigger(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "routing_key": "e93facc04764012d7bfb002500d5d1a6",
        "event_action": "trigger",
        "dedup_key": "payment-processor/prod/p99-latency",
        "payload": {
            "summary": "payment-processor p99 latency 2.84s above 2s on prod",
            "source": "payment-processor-6d8f9c7b5-q4xlm",
            "severity": "error",
        },
    }
    event.update(overrides)
    return event


def parse(event: dict[str, Any]) -> Any:
    [signal] = SOURCE.parse(EVENTS_V2.delivery(json.dumps(event).encode()), MAPPING)
    return signal


def test_registered_without_signature() -> None:
    assert get_source("events-v2") is SOURCE
    assert SOURCE.signature_header is None
    SOURCE.verify(EVENTS_V2.sample("trigger"), "any-secret", RECEIVED)


def test_trigger_sample() -> None:
    [signal] = SOURCE.parse(EVENTS_V2.sample("trigger"), MAPPING)

    assert signal.source == "events-v2"
    assert signal.kind is SignalKind.ALERT
    assert signal.status is SignalStatus.FIRING
    assert signal.severity is Severity.CRITICAL
    assert signal.service == "payment-processor"
    assert signal.environment == "prod"
    assert signal.title == "payment-processor p99 latency 2.84s above 2s on prod"
    assert signal.alert_key == "events-v2:payment-processor/prod/p99-latency"
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 57, 45, 120000, tzinfo=UTC)
    assert signal.labels["component"] == "payment-processor"
    assert signal.labels["class"] == "latency"
    assert signal.labels["p99_ms"] == "2840"
    assert signal.labels["event_action"] == "trigger"
    assert "routing_key" not in signal.labels
    assert signal.links == [
        Link(
            href="https://grafana.prod.acme-payments.example/d/payments-latency/payment-processor?var-env=prod",
            text="Latency dashboard",
        ),
        Link(href="https://prometheus.prod.acme-payments.example/alerts", text="Prometheus"),
    ]


def test_resolve_sample_shares_the_trigger_alert_key() -> None:
    [fired] = SOURCE.parse(EVENTS_V2.sample("trigger"), MAPPING)
    [resolved] = SOURCE.parse(EVENTS_V2.sample("resolve"), MAPPING)

    assert resolved.status is SignalStatus.RESOLVED
    assert resolved.alert_key == fired.alert_key
    assert resolved.occurred_at == RECEIVED  # a payload-less resolve carries no timestamp
    assert resolved.title == "resolve payment-processor/prod/p99-latency"


def test_change_deploy_sample() -> None:
    [signal] = SOURCE.parse(EVENTS_V2.sample("change_deploy"), MAPPING)

    assert signal.kind is SignalKind.DEPLOY
    assert signal.status is SignalStatus.SUCCESS
    assert signal.severity is Severity.INFO
    assert signal.service == "payments-api"
    assert signal.environment == "prod"
    assert signal.title == "Deploy payments-api 2026.11.23.3 (9f4c2e1) to prod"
    assert signal.labels["version"] == "2026.11.23.3"
    assert signal.labels["sha"] == "9f4c2e1b7a3d5f60c8e2b9a14d7f3c6e0a5b8d21"
    assert signal.labels["environment"] == "prod"
    assert signal.labels["source"] == "argocd/payments-api-prod"
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 52, 30, tzinfo=UTC)
    assert signal.alert_key.startswith("events-v2:change:sha256:")
    assert (
        signal.links[0].href
        == "https://argocd.acme-payments.example/applications/payments-api-prod"
    )


def test_change_rollback_sample() -> None:
    [deploy] = SOURCE.parse(EVENTS_V2.sample("change_deploy"), MAPPING)
    [signal] = SOURCE.parse(EVENTS_V2.sample("change_rollback"), MAPPING)

    assert signal.kind is SignalKind.ROLLBACK
    assert signal.status is SignalStatus.SUCCESS
    assert signal.service == "payments-api"
    assert signal.labels["version"] == "2026.11.21.1"
    assert signal.alert_key != deploy.alert_key


@pytest.mark.parametrize(
    ("summary", "details", "kind"),
    [
        ("Revert payments-api to 2026.11.21.1", {}, SignalKind.ROLLBACK),
        ("payments-api rolled back on prod", {}, SignalKind.ROLLBACK),
        ("Release payments-api 2026.11.23.3", {"kind": "Rollback"}, SignalKind.ROLLBACK),
        ("Release payments-api 2026.11.23.3", {"type": "deploy"}, SignalKind.DEPLOY),
    ],
)
def test_change_kind(summary: str, details: dict[str, str], kind: SignalKind) -> None:
    event = {"payload": {"summary": summary, "source": "ci", "custom_details": details}}
    assert parse(event).kind is kind


def test_delivery_key_is_a_stable_body_hash() -> None:
    body = EVENTS_V2.sample("trigger").body
    key = SOURCE.delivery_key(EVENTS_V2.delivery(body))
    assert key.startswith("events-v2:sha256:")
    assert SOURCE.delivery_key(EVENTS_V2.delivery(body)) == key
    assert SOURCE.delivery_key(EVENTS_V2.sample("resolve")) != key


def test_trigger_without_dedup_key_gets_a_derived_one() -> None:
    first = parse(trigger(dedup_key=None))
    again = parse(trigger(dedup_key=None, client="retry"))
    other = parse(trigger(dedup_key=None, routing_key="0123456789abcdef0123456789abcdef"))

    assert first.alert_key.startswith("events-v2:sha256:")
    assert again.alert_key == first.alert_key
    assert other.alert_key != first.alert_key


@pytest.mark.parametrize(
    ("payload_class", "details", "kind"),
    [
        ("circuit breaker", {}, SignalKind.BREAKER),
        ("latency", {"type": "circuit_breaker"}, SignalKind.BREAKER),
        ("latency", {"kind": "CircuitBreaker"}, SignalKind.BREAKER),
        ("latency", {"type": "threshold"}, SignalKind.ALERT),
    ],
)
def test_breaker_kind(payload_class: str, details: dict[str, str], kind: SignalKind) -> None:
    event = trigger()
    event["payload"] |= {"class": payload_class, "custom_details": details}
    assert parse(event).kind is kind


def test_service_falls_back_to_component_then_source() -> None:
    event = trigger()
    event["payload"]["component"] = "payments-db"
    assert parse(event).service == "payments-db"
    assert parse(trigger()).service == "payment-processor-6d8f9c7b5-q4xlm"


def test_acknowledge() -> None:
    signal = parse(
        {"event_action": "acknowledge", "dedup_key": "payment-processor/prod/p99-latency"}
    )
    assert signal.status is SignalStatus.ACKNOWLEDGED
    assert signal.alert_key == "events-v2:payment-processor/prod/p99-latency"


def test_only_web_links_are_kept() -> None:
    event = trigger(
        links=[{"href": "javascript:alert(1)"}, {"href": "https://ok.example/x"}, "junk"],
        client_url="file:///etc/passwd",
    )
    assert parse(event).links == [Link(href="https://ok.example/x")]


def test_limits_at_the_boundary_are_accepted() -> None:
    event = trigger(dedup_key="k" * 255)
    event["payload"]["summary"] = "s" * 1024
    signal = parse(event)
    assert len(signal.title) == 1024


# --- bad input --------------------------------------------------------------------------------


def oversize_summary() -> dict[str, Any]:
    event = trigger()
    event["payload"]["summary"] = "s" * 1025
    return event


def without(key: str) -> dict[str, Any]:
    event = trigger()
    del event["payload"][key]
    return event


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"   \n", "empty body"),
        (b"{not json", "invalid JSON"),
        (b'{"event_action": "trigger\xff"}', "not valid UTF-8"),
        (b'{"payload": {"summary": NaN}}', "invalid JSON number NaN"),
        (b'{"payload": {"summary": Infinity}}', "invalid JSON number Infinity"),
        (b'{"payload": {"n": 9223372036854775808}}', "integer out of range"),
        (b"[" * 10_000 + b"]" * 10_000, "nested deeper"),
        (b'[{"event_action": "trigger"}]', "payload must be a JSON object"),
        (b'{"routing_key": "x"}', "neither an alert event"),
        (json.dumps(trigger(event_action="snooze")).encode(), "unsupported event_action"),
        (json.dumps(trigger(dedup_key="k" * 256)).encode(), "dedup_key longer than 255"),
        (json.dumps(oversize_summary()).encode(), "summary longer than 1024"),
        (json.dumps(without("summary")).encode(), "missing payload.summary"),
        (json.dumps(without("source")).encode(), "without payload.source"),
        (json.dumps(without("severity")).encode(), "payload.severity must be one of"),
        (json.dumps(trigger(payload="down")).encode(), "payload must be a JSON object"),
        (b'{"event_action": "resolve", "routing_key": "x"}', "resolve event without dedup_key"),
        (b'{"event_action": "acknowledge"}', "acknowledge event without dedup_key"),
        (b'{"payload": {"source": "ci"}}', "missing payload.summary"),
        (b'{"payload": {"summary": "' + b"s" * 1025 + b'"}}', "summary longer than 1024"),
    ],
)
def test_bad_input_is_a_parse_error(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        SOURCE.parse(EVENTS_V2.delivery(body), MAPPING)
    assert caught.value.status == 400
