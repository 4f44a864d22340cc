"""Datadog webhook adapter: the recommended template and Datadog's default payload."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from oncall_tui.core.models import Severity, SignalKind, SignalStatus
from oncall_tui.sources import get_source
from oncall_tui.sources.base import ParseError, ServiceMapping, body_key, content_key
from oncall_tui.sources.datadog import RECOMMENDED_TEMPLATE, SOURCE
from tests.unit.sources.conftest import RECEIVED, Adapter

CYCLE_KEY = "7213416098305741214"


DATADOG = Adapter("datadog", {"authorization": "Bearer t0k3n", "content-type": "application/json"})


def parse_one(body: dict[str, Any], mapping: ServiceMapping | None = None) -> Any:
    (signal,) = SOURCE.parse(
        DATADOG.delivery(json.dumps(body).encode()), mapping or ServiceMapping()
    )
    return signal


def test_triggered_sample_parses() -> None:
    (signal,) = SOURCE.parse(DATADOG.delivery(DATADOG.body("triggered.json")), ServiceMapping())

    assert signal.source == "datadog"
    assert signal.kind is SignalKind.ALERT
    assert signal.status is SignalStatus.FIRING
    assert signal.service == "payments-api"
    assert signal.environment == "prod"
    assert signal.severity is Severity.CRITICAL
    assert signal.title == "payments-api 5xx error rate above 5%"
    assert signal.text.startswith("payments-api is returning 5xx on 7.9% of requests")
    assert signal.labels["team"] == "payments"
    assert signal.labels["kube_namespace"] == "prod"
    assert signal.labels["monitor"] == ""
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 58, tzinfo=UTC)
    assert signal.alert_key == f"datadog:{CYCLE_KEY}"
    assert signal.delivery_key == content_key(CYCLE_KEY, "Triggered", "1795435080000")
    assert [(link.text, link.href) for link in signal.links] == [
        ("Datadog", f"https://app.datadoghq.com/event/event?id={CYCLE_KEY}")
    ]


def test_recovered_sample_closes_the_same_alert() -> None:
    (signal,) = SOURCE.parse(DATADOG.delivery(DATADOG.body("recovered.json")), ServiceMapping())

    assert signal.status is SignalStatus.RESOLVED
    assert signal.alert_key == f"datadog:{CYCLE_KEY}"
    assert signal.service == "payments-api"
    assert signal.occurred_at == datetime(2026, 11, 23, 12, 14, tzinfo=UTC)


def test_delivery_key_is_stable_and_tells_triggered_from_recovered() -> None:
    triggered = SOURCE.delivery_key(DATADOG.delivery(DATADOG.body("triggered.json")))
    pretty = json.dumps(DATADOG.payload("triggered.json"), indent=4).encode()

    assert SOURCE.delivery_key(DATADOG.delivery(DATADOG.body("triggered.json"))) == triggered
    assert SOURCE.delivery_key(DATADOG.delivery(pretty)) == triggered
    assert SOURCE.delivery_key(DATADOG.delivery(DATADOG.body("recovered.json"))) != triggered


def test_renotification_is_a_new_delivery_of_the_same_alert() -> None:
    body = DATADOG.payload("triggered.json")
    body.update(alert_transition="Renotify", last_updated="1795436880000")

    signal = parse_one(body)

    assert signal.status is SignalStatus.FIRING
    assert signal.alert_key == f"datadog:{CYCLE_KEY}"
    assert signal.delivery_key != SOURCE.delivery_key(
        DATADOG.delivery(DATADOG.body("triggered.json"))
    )


def test_default_payload_parses_from_the_title_prefix() -> None:
    (signal,) = SOURCE.parse(
        DATADOG.delivery(DATADOG.body("default_payload.json")), ServiceMapping()
    )

    assert signal.status is SignalStatus.FIRING
    assert signal.severity is Severity.ERROR
    assert signal.service == "payments-api"  # from the "on {scope}" part of the title
    assert signal.environment == "prod"
    assert signal.title == "payments-api 5xx error rate above 5%"
    assert signal.text == (
        "payments-api is returning 5xx on 7.9% of requests in prod (threshold 5%).\n\n"
        "@webhook-oncall-tui"
    )
    assert signal.labels["event_type"] == "query_alert_monitor"
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 58, tzinfo=UTC)
    assert signal.alert_key == f"datadog:{CYCLE_KEY}"
    assert signal.delivery_key == f"datadog:{CYCLE_KEY}"
    assert signal.links == []


@pytest.mark.parametrize(
    ("title", "status", "severity"),
    [
        ("[Recovered on {service:payments-api}] 5xx rate", SignalStatus.RESOLVED, Severity.ERROR),
        ("[Warn] 5xx rate", SignalStatus.FIRING, Severity.WARNING),
        ("[Re-Triggered] 5xx rate", SignalStatus.FIRING, Severity.ERROR),
        ("[P4] [No Data] 5xx rate", SignalStatus.FIRING, Severity.INFO),
        ("5xx rate", SignalStatus.FIRING, Severity.ERROR),
    ],
)
def test_default_payload_status_and_severity(
    title: str, status: SignalStatus, severity: Severity
) -> None:
    body = DATADOG.payload("default_payload.json")
    body["title"] = title

    signal = parse_one(body)

    assert (signal.status, signal.severity, signal.title) == (status, severity, "5xx rate")


@pytest.mark.parametrize(
    ("transition", "status"),
    [
        ("Triggered", SignalStatus.FIRING),
        ("Re-Triggered", SignalStatus.FIRING),
        ("Warn", SignalStatus.FIRING),
        ("Re-Warn", SignalStatus.FIRING),
        ("No Data", SignalStatus.FIRING),
        ("Re-No Data", SignalStatus.FIRING),
        ("Renotify", SignalStatus.FIRING),
        ("Recovered", SignalStatus.RESOLVED),
    ],
)
def test_every_transition_maps_to_a_status(transition: str, status: SignalStatus) -> None:
    body = DATADOG.payload("triggered.json")
    body["alert_transition"] = transition

    assert parse_one(body).status is status


@pytest.mark.parametrize(
    ("priority", "transition", "severity"),
    [
        ("P1", "Triggered", Severity.CRITICAL),
        ("P2", "Triggered", Severity.ERROR),
        ("P3", "Triggered", Severity.WARNING),
        ("P5", "Triggered", Severity.INFO),
        ("", "Warn", Severity.WARNING),
        ("", "Triggered", Severity.ERROR),
        ("None", "Triggered", Severity.ERROR),
    ],
)
def test_severity_from_priority_then_transition(
    priority: str, transition: str, severity: Severity
) -> None:
    body = DATADOG.payload("triggered.json")
    body.update(priority=priority, alert_transition=transition, title="5xx rate")

    assert parse_one(body).severity is severity


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (1795435080000, datetime(2026, 11, 23, 11, 58, tzinfo=UTC)),
        ("1795435080000", datetime(2026, 11, 23, 11, 58, tzinfo=UTC)),
        ("", datetime(2026, 11, 23, 11, 58, tzinfo=UTC)),  # falls back to last_updated
    ],
)
def test_dates_are_epoch_milliseconds(date: Any, expected: datetime) -> None:
    body = DATADOG.payload("triggered.json")
    body["date"] = date

    assert parse_one(body).occurred_at == expected


def test_missing_dates_mean_received_now() -> None:
    body = DATADOG.payload("default_payload.json")
    del body["date"], body["last_updated"]

    assert parse_one(body).occurred_at == RECEIVED


def test_alert_key_falls_back_to_monitor_and_scope_then_event_id() -> None:
    body = DATADOG.payload("triggered.json")
    del body["alert_cycle_key"]
    assert parse_one(body).alert_key == "datadog:148265903:env:prod,service:payments-api"

    del body["alert_id"]
    assert parse_one(body).alert_key == f"datadog:{CYCLE_KEY}"

    del body["id"]
    with pytest.raises(ParseError, match="cannot be identified"):
        parse_one(body)


def test_delivery_key_falls_back_to_event_id_then_body_hash() -> None:
    body = DATADOG.payload("triggered.json")
    del body["alert_cycle_key"]
    assert (
        SOURCE.delivery_key(DATADOG.delivery(json.dumps(body).encode())) == f"datadog:{CYCLE_KEY}"
    )

    del body["id"]
    raw = json.dumps(body).encode()
    assert SOURCE.delivery_key(DATADOG.delivery(raw)) == body_key(raw)
    assert SOURCE.delivery_key(DATADOG.delivery(b"{broken")) == body_key(b"{broken")


def test_tags_become_labels() -> None:
    body = DATADOG.payload("triggered.json")
    body["tags"] = " env:prod, service:payments-api ,url:https://pay.example.com,team:payments,,"

    labels = parse_one(body).labels

    assert labels["url"] == "https://pay.example.com"
    assert labels["team"] == "payments"
    assert "" not in labels


def test_service_mapping_uses_the_tag_and_aliases() -> None:
    body = DATADOG.payload("triggered.json")
    body["service"] = ""
    mapping = ServiceMapping(aliases={"payments-api": "payments"})

    assert parse_one(body).service == "payments-api"
    assert parse_one(body, mapping).service == "payments"
    body["service"] = "payments-api-canary"
    assert parse_one(body).service == "payments-api-canary"


def test_only_web_links_are_kept() -> None:
    body = DATADOG.payload("triggered.json")
    body["link"] = "javascript:alert(1)"

    assert parse_one(body).links == []


def test_recommended_template_matches_the_samples_and_the_guide() -> None:
    template = json.loads(RECOMMENDED_TEMPLATE)

    assert list(template) == list(DATADOG.payload("triggered.json"))
    assert template["alert_cycle_key"] == "$ALERT_CYCLE_KEY"
    assert RECOMMENDED_TEMPLATE.strip() in (DATADOG.folder / "TEMPLATE.md").read_text(
        encoding="utf-8"
    )


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"id": "1"', "invalid JSON"),
        (b'{"id": "\xe2\x82"}', "not valid UTF-8"),
        (b'{"id": NaN}', "invalid JSON number NaN"),
        (b'{"id": 99999999999999999999}', "integer out of range"),
        (b"[" * 10_000 + b"]" * 10_000, "nested deeper"),
        (b"", "empty body"),
        (b'[{"id": "1"}]', "must be a JSON object, got list"),
        (b'{"receiver": "x", "alerts": []}', "not a Datadog webhook payload"),
        (b'{"alert_id": "1", "alert_transition": "Snoozed"}', "unknown alert_transition"),
        (b'{"alert_id": "1", "date": "$DATE"}', "invalid timestamp"),
    ],
)
def test_bad_input_is_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        SOURCE.parse(DATADOG.delivery(body), ServiceMapping())


def test_verify_is_a_no_op_and_registry_finds_the_adapter() -> None:
    assert SOURCE.signature_header is None
    SOURCE.verify(DATADOG.delivery(b"anything"), "secret", RECEIVED)
    assert get_source("datadog") is SOURCE
    assert SOURCE.name == "datadog"
