from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from oncall_tui.core.models import Severity, SignalKind, SignalStatus
from oncall_tui.sources import get_source
from oncall_tui.sources.base import ParseError, RawDelivery, ServiceMapping
from oncall_tui.sources.cloudevents import SOURCE
from tests.unit.sources.conftest import RECEIVED, Adapter

MAPPING = ServiceMapping()
APIM = (
    "/subscriptions/6b1e2f4a-8c3d-4e5f-9a0b-1c2d3e4f5a6b/resourceGroups/rg-payments-prod"
    "/providers/Microsoft.ApiManagement/service/apim-payments-prod"
)
SUBJECT = "/backends/payments-api/circuit-breaker/rules/payments-api-5xx"
STRUCTURED = {"content-type": "application/cloudevents+json; charset=utf-8"}


CLOUDEVENTS = Adapter("cloudevents", STRUCTURED)


def event(**attributes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "specversion": "1.0",
        "id": "evt-1",
        "source": "//resilience4j/payments-api",
        "type": "com.example.alert",
    }
    return {**base, **attributes}


def parse(body: dict[str, Any]) -> Any:
    [signal] = SOURCE.parse(CLOUDEVENTS.delivery(json.dumps(body).encode()), MAPPING)
    return signal


def binary(body: bytes, content_type: str = "application/json", **ce: str) -> RawDelivery:
    headers = {f"ce-{key}": value for key, value in ce.items()}
    return CLOUDEVENTS.delivery(body, {"content-type": content_type, **headers})


def test_registered_without_signature() -> None:
    assert get_source("cloudevents") is SOURCE
    assert SOURCE.signature_header is None
    SOURCE.verify(CLOUDEVENTS.sample("breaker_opened"), "any-secret", RECEIVED)


def test_breaker_opened_sample() -> None:
    [signal] = SOURCE.parse(CLOUDEVENTS.sample("breaker_opened"), MAPPING)

    assert signal.source == "cloudevents"
    assert signal.kind is SignalKind.BREAKER
    assert signal.status is SignalStatus.FIRING
    assert signal.severity is Severity.WARNING
    assert signal.service == "payments-api"
    assert signal.title == "Microsoft.ApiManagement.CircuitBreaker.Opened"
    assert signal.alert_key == f"cloudevents:{APIM}:{SUBJECT}"
    assert signal.delivery_key == f"cloudevents:{APIM}:5c0e8a7d-3f21-4b9c-a6d2-8e1f4c7b9a30"
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 59, 12, 447102, tzinfo=UTC)
    assert signal.labels == {
        "backendName": "payments-api",
        "ce_type": "Microsoft.ApiManagement.CircuitBreaker.Opened",
        "ce_source": APIM,
        "ce_subject": SUBJECT,
    }


def test_breaker_closed_sample_resolves_the_opened_one() -> None:
    [opened] = SOURCE.parse(CLOUDEVENTS.sample("breaker_opened"), MAPPING)
    [closed] = SOURCE.parse(CLOUDEVENTS.sample("breaker_closed"), MAPPING)

    assert closed.kind is SignalKind.BREAKER
    assert closed.status is SignalStatus.RESOLVED
    assert closed.alert_key == opened.alert_key
    assert closed.delivery_key != opened.delivery_key
    assert closed.occurred_at == datetime(2026, 11, 23, 12, 22, 40, 103884, tzinfo=UTC)


def test_delivery_key_is_source_and_id_and_stable_across_retries() -> None:
    body = (CLOUDEVENTS.folder / "breaker_opened.json").read_bytes()
    assert SOURCE.delivery_key(CLOUDEVENTS.delivery(body)) == SOURCE.delivery_key(
        CLOUDEVENTS.delivery(body)
    )
    # The spec makes source + id the identity: a re-serialised copy is the same event.
    copy = json.dumps(json.loads(body)).encode()
    assert SOURCE.delivery_key(CLOUDEVENTS.delivery(copy)) == SOURCE.delivery_key(
        CLOUDEVENTS.delivery(body)
    )
    assert SOURCE.delivery_key(CLOUDEVENTS.delivery(b"{broken")).startswith("cloudevents:sha256:")


@pytest.mark.parametrize(
    ("event_type", "kind", "status"),
    [
        ("Microsoft.ApiManagement.CircuitBreaker.Opened", SignalKind.BREAKER, SignalStatus.FIRING),
        (
            "Microsoft.ApiManagement.CircuitBreaker.Closed",
            SignalKind.BREAKER,
            SignalStatus.RESOLVED,
        ),
        ("io.resilience4j.circuit_breaker.open", SignalKind.BREAKER, SignalStatus.FIRING),
        ("io.resilience4j.circuitbreaker.closed_to_open", SignalKind.BREAKER, SignalStatus.FIRING),
        (
            "io.resilience4j.circuitbreaker.open_to_closed",
            SignalKind.BREAKER,
            SignalStatus.RESOLVED,
        ),
        ("com.example.breaker.half_open", SignalKind.BREAKER, SignalStatus.FIRING),
        ("com.example.deploy.finished", SignalKind.DEPLOY, SignalStatus.SUCCESS),
        ("dev.cdevents.service.deployed.0.2.0", SignalKind.DEPLOY, SignalStatus.SUCCESS),
        ("com.example.deploy.rollback", SignalKind.ROLLBACK, SignalStatus.SUCCESS),
        ("dev.cdevents.service.rolledback.0.2.0", SignalKind.ROLLBACK, SignalStatus.SUCCESS),
        ("com.example.alert.resolved", SignalKind.ALERT, SignalStatus.RESOLVED),
        ("com.example.health.recovered", SignalKind.ALERT, SignalStatus.RESOLVED),
        ("com.example.alert.triggered", SignalKind.ALERT, SignalStatus.FIRING),
        ("com.github.pull_request.opened", SignalKind.ALERT, SignalStatus.FIRING),
    ],
)
def test_type_mapping(event_type: str, kind: SignalKind, status: SignalStatus) -> None:
    signal = parse(event(type=event_type))
    assert (signal.kind, signal.status) == (kind, status)


def test_data_fields_give_service_title_severity_and_environment() -> None:
    signal = parse(
        event(
            subject="payments-api-pod-7",
            data={
                "service": {"name": "payment-processor"},
                "title": "Breaker tripped on payment-processor → bank gateway",
                "severity": "critical",
                "environment": "prod",
            },
        )
    )
    assert signal.service == "payment-processor"
    assert signal.title == "Breaker tripped on payment-processor → bank gateway"
    assert signal.severity is Severity.CRITICAL
    assert signal.environment == "prod"


@pytest.mark.parametrize(
    ("data", "subject", "service"),
    [
        ({"service": "payments-api"}, "s", "payments-api"),
        ({"serviceName": "payments-api"}, "s", "payments-api"),
        ({"service.name": "payments-api"}, "s", "payments-api"),
        ({}, "payments-api", "payments-api"),
        ({}, None, None),
    ],
)
def test_service_resolution(data: dict[str, Any], subject: str | None, service: str | None) -> None:
    attributes = {"data": data, **({"subject": subject} if subject else {})}
    assert parse(event(**attributes)).service == service


def test_title_falls_back_through_summary_and_message() -> None:
    assert parse(event(data={"summary": "S", "message": "M"})).title == "S"
    assert parse(event(data={"message": "M"})).title == "M"
    assert parse(event(data="plain text")).title == "com.example.alert"


def test_alert_key_without_subject_pairs_open_and_close() -> None:
    opened = parse(event(type="com.example.circuitbreaker.opened"))
    closed = parse(event(type="com.example.circuitbreaker.closed", id="evt-2"))
    assert (
        opened.alert_key
        == closed.alert_key
        == "cloudevents://resilience4j/payments-api:com.example.circuitbreaker"
    )
    by_data_id = parse(event(data={"id": "breaker-42"}))
    assert by_data_id.alert_key == "cloudevents://resilience4j/payments-api:breaker-42"


def test_deploy_defaults_to_info_severity() -> None:
    assert parse(event(type="com.example.deploy.finished")).severity is Severity.INFO


def test_binary_mode() -> None:
    body = json.dumps({"serviceName": "payments-api", "severity": "error"}).encode()
    [signal] = SOURCE.parse(
        binary(
            body,
            specversion="1.0",
            id="9f1c",
            source="//apim/payments",
            type="com.example.circuitbreaker.opened",
            subject="payments-api",
            time="2026-11-23T11:59:12Z",
        ),
        MAPPING,
    )
    assert signal.kind is SignalKind.BREAKER
    assert signal.status is SignalStatus.FIRING
    assert signal.service == "payments-api"
    assert signal.severity is Severity.ERROR
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 59, 12, tzinfo=UTC)
    assert signal.alert_key == "cloudevents://apim/payments:payments-api"
    assert (
        SOURCE.delivery_key(
            binary(body, specversion="1.0", id="9f1c", source="//apim/payments", type="t")
        )
        == "cloudevents://apim/payments:9f1c"
    )


def test_binary_mode_percent_decodes_and_tolerates_no_data() -> None:
    [signal] = SOURCE.parse(
        binary(b"", specversion="1.0", id="1", source="//s", type="t", subject="caf%C3%A9-api"),
        MAPPING,
    )
    assert signal.service == "café-api"
    assert signal.occurred_at == RECEIVED
    [signal] = SOURCE.parse(
        binary(b"breaker open", "text/plain", specversion="1.0", id="1", source="//s", type="t"),
        MAPPING,
    )
    assert signal.title == "t"


def test_unicode_body_parses() -> None:
    body = json.dumps(event(data={"title": "Disjoncteur ouvert – 熔断器"}), ensure_ascii=False)
    [signal] = SOURCE.parse(CLOUDEVENTS.delivery(body.encode()), MAPPING)
    assert signal.title == "Disjoncteur ouvert – 熔断器"


# --- bad input --------------------------------------------------------------------------------


def missing(name: str) -> bytes:
    body = event()
    del body[name]
    return json.dumps(body).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"{not json", "invalid JSON"),
        (b'{"specversion": "1.0", "id": "\xc3\x28"}', "not valid UTF-8"),
        (b'{"specversion": "1.0", "data": {"x": NaN}}', "invalid JSON number NaN"),
        (b'{"specversion": "1.0", "data": {"x": -9223372036854775809}}', "integer out of range"),
        (b'{"data":' * 10_000 + b"1" + b"}" * 10_000, "nested deeper"),
        (b'[{"specversion": "1.0"}]', "CloudEvent must be a JSON object"),
        (missing("specversion"), "missing CloudEvents attribute 'specversion'"),
        (missing("id"), "missing CloudEvents attribute 'id'"),
        (missing("source"), "missing CloudEvents attribute 'source'"),
        (missing("type"), "missing CloudEvents attribute 'type'"),
        (json.dumps(event(specversion="0.3")).encode(), "unsupported CloudEvents specversion"),
        (json.dumps(event(time="not a time")).encode(), "invalid timestamp"),
    ],
)
def test_bad_input_is_a_parse_error(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        SOURCE.parse(CLOUDEVENTS.delivery(body), MAPPING)
    assert caught.value.status == 400


def test_batch_mode_is_refused_with_a_reason() -> None:
    body = json.dumps([event()]).encode()
    with pytest.raises(ParseError, match="batched CloudEvents are not supported"):
        SOURCE.parse(
            CLOUDEVENTS.delivery(body, {"content-type": "application/cloudevents-batch+json"}),
            MAPPING,
        )


def test_binary_mode_missing_header_attribute_is_named() -> None:
    with pytest.raises(ParseError, match="missing CloudEvents attribute 'source'"):
        SOURCE.parse(binary(b"{}", specversion="1.0", id="1", type="t"), MAPPING)
    with pytest.raises(ParseError, match="invalid JSON"):
        SOURCE.parse(binary(b"{oops", specversion="1.0", id="1", source="s", type="t"), MAPPING)
