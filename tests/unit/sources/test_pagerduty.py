from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime

import pytest

from oncall_tui.core.models import Link, Severity, SignalKind, SignalStatus
from oncall_tui.sources import get_source
from oncall_tui.sources.base import (
    AuthError,
    ParseError,
    RawDelivery,
    ServiceMapping,
    hmac_sha256_hex,
)
from oncall_tui.sources.pagerduty import SOURCE
from tests.unit.sources.conftest import RECEIVED, Adapter

SECRET = "sample-secret"
MAPPING = ServiceMapping()


PAGERDUTY = Adapter("pagerduty")


def signed(body: bytes, signature: str) -> RawDelivery:
    return PAGERDUTY.delivery(body, {"x-pagerduty-signature": signature})


def event(event_type: str, data: Mapping[str, object]) -> bytes:
    envelope = {
        "event": {
            "id": "01JDQ3V8K2N7P4R6T9W1Y3Z5B8",
            "event_type": event_type,
            "resource_type": "incident",
            "occurred_at": "2026-11-23T11:58:02Z",
            "data": data,
        }
    }
    return json.dumps(envelope).encode()


def test_registered_under_its_name() -> None:
    assert get_source("pagerduty") is SOURCE
    assert SOURCE.name == "pagerduty"
    assert SOURCE.signature_header == "x-pagerduty-signature"


def test_triggered_sample_parses_to_a_firing_p1_incident() -> None:
    [signal] = SOURCE.parse(PAGERDUTY.sample("triggered"), MAPPING)

    assert signal.source == "pagerduty"
    assert signal.kind is SignalKind.INCIDENT
    assert signal.status is SignalStatus.FIRING
    assert signal.severity is Severity.CRITICAL
    assert signal.service == "payment-processor"
    assert signal.title == (
        "payment-processor: 5xx ratio 7.3% above 5% on prod (PaymentProcessorHighErrorRate)"
    )
    assert signal.alert_key == "pagerduty:Q0RZ7T4LX2M9KA"
    assert signal.delivery_key == "pagerduty:event:01JDQ3V8K2N7P4R6T9W1Y3Z5B8"
    assert signal.labels == {
        "event_type": "incident.triggered",
        "incident_key": "5f1d7c2a9b3e4f6081c2d3e4f5a6b7c8",
        "incident_number": "4817",
    }
    assert signal.links == [
        Link(href="https://acme.pagerduty.com/incidents/Q0RZ7T4LX2M9KA", text="PagerDuty incident")
    ]
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 58, 2, 417000, tzinfo=UTC)
    assert signal.received_at == RECEIVED


def test_lifecycle_samples_share_the_alert_key() -> None:
    signals = [
        SOURCE.parse(PAGERDUTY.sample(name), MAPPING)[0]
        for name in ("triggered", "acknowledged", "resolved")
    ]

    assert [s.status for s in signals] == [
        SignalStatus.FIRING,
        SignalStatus.ACKNOWLEDGED,
        SignalStatus.RESOLVED,
    ]
    assert {s.alert_key for s in signals} == {"pagerduty:Q0RZ7T4LX2M9KA"}
    assert len({s.delivery_key for s in signals}) == 3
    assert signals[2].occurred_at == datetime(2026, 11, 23, 12, 41, 9, 881000, tzinfo=UTC)


def test_service_goes_through_the_alias_mapping() -> None:
    mapping = ServiceMapping(aliases={"payment-processor": "payments"})
    [signal] = SOURCE.parse(PAGERDUTY.sample("triggered"), mapping)
    assert signal.service == "payments"


def test_delivery_key_is_the_signed_event_id_and_stable_across_retries() -> None:
    first = PAGERDUTY.sample("triggered")
    retry = RawDelivery(
        source="pagerduty",
        body=first.body,
        headers=dict(first.headers),
        received_at=datetime(2026, 11, 23, 12, 4, tzinfo=UTC),
    )
    assert SOURCE.delivery_key(first) == "pagerduty:event:01JDQ3V8K2N7P4R6T9W1Y3Z5B8"
    assert SOURCE.delivery_key(retry) == SOURCE.delivery_key(first)
    assert SOURCE.delivery_key(PAGERDUTY.sample("acknowledged")) != SOURCE.delivery_key(first)


def test_a_signed_body_replayed_under_a_new_webhook_id_keeps_its_key() -> None:
    """``X-Webhook-Id`` is not signed; ``event.id`` ("the unique id of the event",
    https://developer.pagerduty.com/docs/webhooks-overview, Webhook Payload) is in the body the
    signature covers, so a captured delivery sent again under a fresh header is the same one."""
    captured = PAGERDUTY.sample("triggered")
    replayed = RawDelivery(
        source="pagerduty",
        body=captured.body,
        headers={**captured.headers, "x-webhook-id": "f00dfeed-0000-4000-8000-000000000001"},
        received_at=datetime(2026, 11, 23, 13, 0, tzinfo=UTC),
    )
    SOURCE.verify(replayed, SECRET, RECEIVED)  # still validly signed: only the key can tell
    assert SOURCE.delivery_key(replayed) == SOURCE.delivery_key(captured)
    [signal] = SOURCE.parse(replayed, MAPPING)
    assert signal.delivery_key == SOURCE.delivery_key(captured)


def test_delivery_key_falls_back_to_webhook_id_then_body_hash() -> None:
    body = PAGERDUTY.sample("triggered").body
    assert (
        SOURCE.delivery_key(PAGERDUTY.delivery(body))
        == "pagerduty:event:01JDQ3V8K2N7P4R6T9W1Y3Z5B8"
    )
    payload = json.loads(body)
    del payload["event"]["id"]
    without_id = json.dumps(payload).encode()
    assert (
        SOURCE.delivery_key(PAGERDUTY.delivery(without_id, {"x-webhook-id": "w-7"}))
        == "pagerduty:w-7"
    )
    [signal] = SOURCE.parse(PAGERDUTY.delivery(without_id, {"x-webhook-id": "w-7"}), MAPPING)
    assert signal.delivery_key == "pagerduty:w-7"
    assert SOURCE.delivery_key(PAGERDUTY.delivery(without_id)).startswith("pagerduty:sha256:")
    garbage = SOURCE.delivery_key(PAGERDUTY.delivery(b"not json", {"x-webhook-id": "w-8"}))
    assert garbage == "pagerduty:w-8"
    hashed = SOURCE.delivery_key(PAGERDUTY.delivery(b"not json"))
    assert hashed.startswith("pagerduty:sha256:")
    assert hashed == SOURCE.delivery_key(PAGERDUTY.delivery(b"not json"))


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["triggered", "acknowledged", "resolved"])
def test_sample_signatures_verify(name: str) -> None:
    SOURCE.verify(PAGERDUTY.sample(name), SECRET, RECEIVED)


def test_rotated_header_with_old_and_new_secret_verifies() -> None:
    rotated = PAGERDUTY.sample("triggered", headers_of="rotated")
    header = rotated.header("x-pagerduty-signature")
    assert header is not None and header.count("v1=") == 2
    SOURCE.verify(rotated, SECRET, RECEIVED)
    SOURCE.verify(rotated, "sample-secret-old", RECEIVED)


def test_wrong_secret_is_forbidden() -> None:
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(PAGERDUTY.sample("triggered"), "another-secret", RECEIVED)
    assert caught.value.status == 403


def test_missing_signature_is_unauthorized() -> None:
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(PAGERDUTY.delivery(PAGERDUTY.sample("triggered").body), SECRET, RECEIVED)
    assert caught.value.status == 401


GOOD_BODY = b'{"event":{"event_type":"incident.triggered"}}'
GOOD = hmac_sha256_hex(SECRET, GOOD_BODY)
BAD = "0" * 64


@pytest.mark.parametrize(
    "header",
    [
        f"v1={GOOD}",
        f"v1={BAD},v1={GOOD}",
        f"v1={GOOD},v1={BAD}",
        f"v1={BAD}, v1={GOOD}",
        f"v1={GOOD.upper()}",
        f"v2={BAD},v1={GOOD}",
    ],
)
def test_accepted_signature_headers(header: str) -> None:
    SOURCE.verify(signed(GOOD_BODY, header), SECRET, RECEIVED)


@pytest.mark.parametrize(
    "header",
    [
        f"v1={BAD}",
        f"v1={BAD},v1={BAD}",
        f"v0={GOOD}",  # only v1 is a known scheme: a right digest under another is ignored
        GOOD,  # bare digest without a scheme
        f"v1={GOOD[:-1]}",
        "v1=",
        f"sha256={GOOD}",
        f"v1=ünïcode{GOOD}",
    ],
)
def test_rejected_signature_headers(header: str) -> None:
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(signed(GOOD_BODY, header), SECRET, RECEIVED)
    assert caught.value.status == 403


def test_blank_signature_header_counts_as_missing() -> None:
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(signed(GOOD_BODY, "  "), SECRET, RECEIVED)
    assert caught.value.status == 401


def test_signature_over_reserialized_json_fails() -> None:
    raw = PAGERDUTY.sample("triggered").body
    reserialized = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert reserialized != raw
    header = f"v1={hmac_sha256_hex(SECRET, reserialized)}"
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(signed(raw, header), SECRET, RECEIVED)
    assert caught.value.status == 403


def test_unicode_body_with_correct_signature_verifies_and_parses() -> None:
    title = "Zahlungsdienst ausgefallen – 支付失败 ✗"
    body = event(
        "incident.triggered",
        {"id": "Q1UNIC0DE", "type": "incident", "title": title, "urgency": "low"},
    ).replace(json.dumps(title).encode(), json.dumps(title, ensure_ascii=False).encode())
    assert "支付".encode() in body
    SOURCE.verify(signed(body, f"v1={hmac_sha256_hex(SECRET, body)}"), SECRET, RECEIVED)
    [signal] = SOURCE.parse(PAGERDUTY.delivery(body), MAPPING)
    assert signal.title == title
    assert signal.severity is Severity.WARNING


# --- event types ------------------------------------------------------------------------------


def test_annotated_note_keys_on_its_incident() -> None:
    note = {
        "incident": {
            "html_url": "https://acme.pagerduty.com/incidents/Q0RZ7T4LX2M9KA",
            "id": "Q0RZ7T4LX2M9KA",
            "summary": "payment-processor: 5xx ratio 7.3% above 5% on prod",
            "type": "incident_reference",
        },
        "id": "PNOTE42",
        "content": "Rolled back payments-api to 2026.11.21.1",
        "trimmed": False,
        "type": "incident_note",
    }
    [signal] = SOURCE.parse(PAGERDUTY.delivery(event("incident.annotated", note)), MAPPING)

    assert signal.alert_key == "pagerduty:Q0RZ7T4LX2M9KA"
    assert signal.status is SignalStatus.NOTICE
    assert signal.title == "payment-processor: 5xx ratio 7.3% above 5% on prod"
    assert signal.text == "Rolled back payments-api to 2026.11.21.1"
    assert signal.service is None
    assert signal.links[0].href == "https://acme.pagerduty.com/incidents/Q0RZ7T4LX2M9KA"


def test_informational_event_keeps_the_incident_state() -> None:
    data = {"id": "Q9", "type": "incident", "status": "acknowledged", "title": "t"}
    [signal] = SOURCE.parse(PAGERDUTY.delivery(event("incident.reassigned", data)), MAPPING)
    assert signal.status is SignalStatus.ACKNOWLEDGED
    [signal] = SOURCE.parse(PAGERDUTY.delivery(event("incident.escalated", {"id": "Q9"})), MAPPING)
    assert signal.status is SignalStatus.NOTICE


@pytest.mark.parametrize(
    ("priority", "urgency", "expected"),
    [
        ({"summary": "P1"}, "high", Severity.CRITICAL),
        ({"summary": "P2"}, "low", Severity.ERROR),
        ({"summary": "P3"}, "high", Severity.WARNING),
        ({"summary": "P5"}, "high", Severity.INFO),
        ({"summary": "Custom"}, "high", Severity.ERROR),
        (None, "high", Severity.ERROR),
        (None, "low", Severity.WARNING),
        (None, None, Severity.WARNING),
    ],
)
def test_severity_from_priority_then_urgency(
    priority: dict[str, str] | None, urgency: str | None, expected: Severity
) -> None:
    data = {"id": "Q1", "type": "incident", "title": "t", "priority": priority, "urgency": urgency}
    [signal] = SOURCE.parse(PAGERDUTY.delivery(event("incident.triggered", data)), MAPPING)
    assert signal.severity is expected


@pytest.mark.parametrize(
    "event_type", ["service.updated", "service.created", "incident.exploded", "", "pagey.triggered"]
)
def test_unsupported_event_types_are_refused(event_type: str) -> None:
    with pytest.raises(ParseError, match="unsupported event type"):
        SOURCE.parse(
            PAGERDUTY.delivery(event(event_type, {"id": "PF9KMXH", "type": "service"})), MAPPING
        )


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"{not json", "invalid JSON"),
        (b'{"event": "\xff\xfe"}', "not valid UTF-8"),
        (b'{"event": {"id": NaN}}', "invalid JSON number NaN"),
        (b'{"event": {"number": 9223372036854775808}}', "integer out of range"),
        (b"[" * 10_000 + b"]" * 10_000, "nested deeper"),
        (b"[]", "payload must be a JSON object"),
        (b'{"incident": {}}', "event must be a JSON object"),
        (b'{"event": {"event_type": "incident.triggered"}}', "event.data must be a JSON object"),
        (event("incident.triggered", {"type": "incident", "title": "t"}), "no incident id"),
        (event("incident.annotated", {"type": "incident_note"}), "event.data.incident"),
        (
            event("incident.triggered", {"id": "Q1"}).replace(b"11:58:02Z", b"yesterday"),
            "timestamp",
        ),
    ],
)
def test_bad_input_is_a_parse_error(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        SOURCE.parse(PAGERDUTY.delivery(body), MAPPING)
    assert caught.value.status == 400
