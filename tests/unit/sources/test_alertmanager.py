"""Alertmanager webhook v4 adapter, exercised with the real-format samples in sample_data/."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from oncall_tui.core.models import Severity, SignalKind, SignalStatus
from oncall_tui.sources import get_source
from oncall_tui.sources.alertmanager import SOURCE, TRUNCATED_LABEL, label_fingerprint
from oncall_tui.sources.base import ParseError, ServiceMapping, body_key
from tests.unit.sources.conftest import RECEIVED, Adapter

STARTS_AT = "2026-11-23T11:54:30.512839217Z"
START_KEY = "2026-11-23T11:54:30.512Z"
"""Alert identities use UTC milliseconds: the API and the webhook spell the start differently."""
FIRST_ALERT_KEY = f"am:2ee254fac5aceac5:{START_KEY}"


ALERTMANAGER = Adapter("alertmanager", {"content-type": "application/json"})


def encode(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def storm(count: int) -> dict[str, Any]:
    """One group of ``count`` alerts, as a cluster-wide outage would produce."""
    alerts = [
        {
            "status": "firing",
            "labels": {"alertname": "PodCrashLooping", "service": "payments-api", "pod": f"p-{i}"},
            "annotations": {"summary": f"pod p-{i} is crash looping"},
            "startsAt": "2026-11-23T11:50:00Z",
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "http://prometheus:9090/graph",
            "fingerprint": f"{i:016x}",
        }
        for i in range(count)
    ]
    return {
        "version": "4",
        "status": "firing",
        "groupKey": '{}:{alertname="PodCrashLooping"}',
        "commonLabels": {"alertname": "PodCrashLooping", "service": "payments-api"},
        "alerts": alerts,
        "truncatedAlerts": 0,
    }


def test_firing_sample_normalises_every_alert() -> None:
    signals = SOURCE.parse(
        ALERTMANAGER.delivery(ALERTMANAGER.body("firing.json")), ServiceMapping()
    )

    assert len(signals) == 2
    first = signals[0]
    assert first.source == "alertmanager"
    assert first.kind is SignalKind.ALERT
    assert first.status is SignalStatus.FIRING
    assert first.service == "payment-processor"
    assert first.environment == "prod"
    assert first.severity is Severity.CRITICAL
    assert first.title == "payment-processor 5xx ratio above 5% in prod"
    assert first.text.startswith("8.3% of requests to payment-processor")
    assert first.labels["pod"] == "payment-processor-7d9f8b6c5-x2k4q"
    assert first.labels["team"] == "payments"
    assert first.occurred_at == datetime(2026, 11, 23, 11, 54, 30, 512000, tzinfo=UTC)
    assert first.received_at == RECEIVED
    assert first.alert_key == FIRST_ALERT_KEY
    assert first.group_key == (
        '{}/{team="payments"}:{alertname="PaymentProcessorHighErrorRate", '
        'service="payment-processor"}'
    )
    assert [link.text for link in first.links] == ["Source", "Runbook", "Alertmanager"]
    assert first.links[0].href.endswith("%3E+0.05&g0.tab=1")  # Go's \u0026 decoded
    assert first.links[2].href == "http://alertmanager.monitoring.svc:9093"
    assert signals[1].alert_key == f"am:b113d4b78729a946:{START_KEY}"
    assert {s.delivery_key for s in signals} == {
        SOURCE.delivery_key(ALERTMANAGER.delivery(ALERTMANAGER.body("firing.json")))
    }


def test_resolved_sample_closes_the_same_alert() -> None:
    (resolved,) = SOURCE.parse(
        ALERTMANAGER.delivery(ALERTMANAGER.body("resolved.json")), ServiceMapping()
    )

    assert resolved.status is SignalStatus.RESOLVED
    assert resolved.is_resolution
    assert resolved.alert_key == FIRST_ALERT_KEY
    assert resolved.service == "payment-processor"
    assert resolved.severity is Severity.CRITICAL
    assert resolved.occurred_at == datetime(2026, 11, 23, 12, 9, 45, 104356, tzinfo=UTC)


def test_resolved_with_zero_end_time_happened_on_receipt() -> None:
    body = ALERTMANAGER.payload("resolved.json")
    body["alerts"][0]["endsAt"] = "0001-01-01T00:00:00Z"

    (resolved,) = SOURCE.parse(ALERTMANAGER.delivery(encode(body)), ServiceMapping())

    assert resolved.occurred_at == RECEIVED


def test_delivery_key_is_stable_for_the_same_content() -> None:
    firing = ALERTMANAGER.body("firing.json")
    reordered = ALERTMANAGER.payload("firing.json")
    reordered["alerts"].reverse()
    reordered["receiver"] = "another-receiver"

    key = SOURCE.delivery_key(ALERTMANAGER.delivery(firing))

    assert key.startswith("sha256:")
    assert SOURCE.delivery_key(ALERTMANAGER.delivery(firing)) == key
    # An HA peer renders the same notification with its own whitespace and alert order.
    assert (
        SOURCE.delivery_key(ALERTMANAGER.delivery(json.dumps(reordered, indent=1).encode())) == key
    )
    assert SOURCE.delivery_key(ALERTMANAGER.delivery(ALERTMANAGER.body("resolved.json"))) != key


def test_delivery_key_of_an_unreadable_body_is_its_hash() -> None:
    body = b'{"version": "4", "alerts": 3}'

    assert SOURCE.delivery_key(ALERTMANAGER.delivery(body)) == body_key(body)


def test_storm_of_ten_thousand_alerts_parses_whole() -> None:
    # How fast is the storm benchmark's business (tests/benchmarks/bench_storm.py), not this.
    body = storm(10_000)
    body["truncatedAlerts"] = 250
    raw = encode(body)

    signals = SOURCE.parse(ALERTMANAGER.delivery(raw), ServiceMapping())
    key = SOURCE.delivery_key(ALERTMANAGER.delivery(raw))

    assert len(signals) == 10_000
    assert len({s.alert_key for s in signals}) == 10_000
    assert {s.delivery_key for s in signals} == {key}
    assert signals[0].labels[TRUNCATED_LABEL] == "250"
    assert TRUNCATED_LABEL not in signals[1].labels


def test_fingerprint_matches_prometheus_label_signature() -> None:
    # Test vector from prometheus/common model/signature_test.go (LabelsToSignature).
    labels = {"name": "garland, briggs", "fear": "love is not enough"}

    assert label_fingerprint(labels) == f"{5799056148416392346:016x}"
    assert label_fingerprint({}) == f"{14695981039346656037:016x}"


def test_missing_fingerprint_is_computed_from_the_labels() -> None:
    body = ALERTMANAGER.payload("firing.json")
    alert = body["alerts"][0]
    expected = alert.pop("fingerprint")

    signals = SOURCE.parse(ALERTMANAGER.delivery(encode(body)), ServiceMapping())

    assert expected == label_fingerprint(alert["labels"])
    assert signals[0].alert_key == FIRST_ALERT_KEY


def test_unknown_fields_are_ignored_and_missing_optional_ones_tolerated() -> None:
    body = {
        "version": "4",
        "status": "firing",
        "futureField": {"nested": [1, 2]},
        "alerts": [{"status": "firing", "startsAt": "2026-11-23T11:50:00Z", "extra": True}],
    }

    (signal,) = SOURCE.parse(ALERTMANAGER.delivery(encode(body)), ServiceMapping())

    assert signal.service is None
    assert signal.environment is None
    assert signal.severity is Severity.WARNING
    assert signal.group_key is None
    assert signal.links == []
    assert signal.title == f"alert {label_fingerprint({})}"


def test_only_web_links_are_kept() -> None:
    body = ALERTMANAGER.payload("firing.json")
    body["alerts"][0]["generatorURL"] = "javascript:alert(1)"
    body["alerts"][0]["annotations"]["runbook_url"] = "file:///etc/passwd"

    signals = SOURCE.parse(ALERTMANAGER.delivery(encode(body)), ServiceMapping())

    assert [link.text for link in signals[0].links] == ["Alertmanager"]


def test_service_mapping_with_aliases() -> None:
    by_job = ServiceMapping(
        label_keys=("job",), aliases={"payment-processor-prod": "payment-processor"}
    )
    renamed = ServiceMapping(aliases={"payment-processor": "payments-core"})

    firing = ALERTMANAGER.delivery(ALERTMANAGER.body("firing.json"))
    assert SOURCE.parse(firing, by_job)[0].service == "payment-processor"
    assert SOURCE.parse(firing, renamed)[0].service == "payments-core"


def test_alert_labels_override_common_labels() -> None:
    body = ALERTMANAGER.payload("firing.json")
    body["commonLabels"]["severity"] = "info"
    body["commonLabels"]["cluster"] = "eu-west-1"

    first = SOURCE.parse(ALERTMANAGER.delivery(encode(body)), ServiceMapping())[0]

    assert first.severity is Severity.CRITICAL
    assert first.labels["cluster"] == "eu-west-1"


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "invalid JSON"),
        (b'{"version": "4", "alerts": [], "x": "\xff"}', "not valid UTF-8"),
        (b'{"version": "4", "alerts": [], "x": NaN}', "invalid JSON number NaN"),
        (b'{"version": "4", "alerts": [], "x": 9223372036854775808}', "integer out of range"),
        (b"[" * 10_000 + b"]" * 10_000, "nested deeper"),
        (b"", "empty body"),
        (b"  \n", "empty body"),
        (b'[{"version": "4"}]', "must be a JSON object, got list"),
        (b'{"version": "3", "alerts": []}', "version must be '4', got '3'"),
        (
            b'{"version": "1", "orgId": 1, "alerts": []}',
            "looks like grafana: use /webhooks/grafana",
        ),
        (b'{"version": 4, "alerts": []}', r"version must be '4', got 4$"),
        (b'{"alerts": []}', "version must be '4', got None"),
        (b'{"version": "4"}', "'alerts' list, got NoneType"),
        (b'{"version": "4", "alerts": {"a": 1}}', "'alerts' list, got dict"),
        (b'{"version": "4", "alerts": ["firing"]}', r"alerts\[0\] must be a JSON object"),
    ],
)
def test_bad_input_is_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        SOURCE.parse(ALERTMANAGER.delivery(body), ServiceMapping())


@pytest.mark.parametrize(
    ("alert", "reason"),
    [
        ({"status": "firing"}, r"alerts\[1\]: missing startsAt"),
        ({"status": "pending", "startsAt": "2026-11-23T11:50:00Z"}, "got 'pending'"),
        ({"status": "firing", "startsAt": "yesterday"}, "invalid timestamp"),
    ],
)
def test_bad_alert_is_refused_with_its_index(alert: dict[str, Any], reason: str) -> None:
    body = ALERTMANAGER.payload("resolved.json")
    body["status"] = "unknown"
    body["alerts"].append(alert)

    with pytest.raises(ParseError, match=reason):
        SOURCE.parse(ALERTMANAGER.delivery(encode(body)), ServiceMapping())


def test_verify_accepts_anything_because_alertmanager_cannot_sign() -> None:
    assert SOURCE.signature_header is None
    SOURCE.verify(ALERTMANAGER.delivery(b"not even json"), "secret", RECEIVED)


def test_registry_finds_the_adapter() -> None:
    assert get_source("alertmanager") is SOURCE
    assert SOURCE.name == "alertmanager"


def test_webhook_and_api_spellings_of_the_start_give_one_identity() -> None:
    """The webhook sends nanoseconds and the source offset; the API sends UTC milliseconds."""
    body = json.loads((ALERTMANAGER.folder / "firing.json").read_bytes())
    api_style = json.loads(json.dumps(body))
    body["alerts"][0]["startsAt"] = "2026-11-23T12:54:30.512839217+01:00"
    api_style["alerts"][0]["startsAt"] = "2026-11-23T11:54:30.512Z"
    webhook = SOURCE.parse(ALERTMANAGER.delivery(json.dumps(body).encode()), ServiceMapping())[0]
    polled = SOURCE.parse(ALERTMANAGER.delivery(json.dumps(api_style).encode()), ServiceMapping())[
        0
    ]
    assert webhook.alert_key == polled.alert_key == FIRST_ALERT_KEY
    assert webhook.occurred_at == polled.occurred_at
