"""Grafana unified alerting webhook adapter: parsing and HMAC signature checks."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from oncall_tui.core.models import Severity, SignalStatus
from oncall_tui.sources import get_source
from oncall_tui.sources.base import (
    AuthError,
    ParseError,
    RawDelivery,
    ServiceMapping,
    hmac_sha256_hex,
)
from oncall_tui.sources.grafana import SOURCE, VALUES_LABEL
from tests.unit.sources.conftest import RECEIVED, Adapter

SECRET = "sample-secret"
ALERT_KEY = "grafana:e617b7c309043f57:2026-11-23T11:57:30.000Z"
SIGNATURE = "x-grafana-alerting-signature"
TIMESTAMP = "x-grafana-alerting-timestamp"


GRAFANA = Adapter("grafana")


def signed_sample() -> tuple[RawDelivery, datetime]:
    """The signed sample as it arrived, and the instant it was signed."""
    headers: dict[str, str] = json.loads(GRAFANA.body("signed.headers.json"))
    signed = GRAFANA.delivery(GRAFANA.body("signed.json"), headers)
    stamp = signed.header(TIMESTAMP)
    assert stamp is not None
    return signed, datetime.fromtimestamp(int(stamp), tz=UTC)


def sign(body: bytes, stamp: str | None = None, secret: str = SECRET) -> dict[str, str]:
    if stamp is None:
        return {SIGNATURE: hmac_sha256_hex(secret, body)}
    return {SIGNATURE: hmac_sha256_hex(secret, stamp.encode() + b":" + body), TIMESTAMP: stamp}


def test_firing_sample_parses_with_grafana_links_and_values() -> None:
    (signal,) = SOURCE.parse(GRAFANA.delivery(GRAFANA.body("firing.json")), ServiceMapping())

    assert signal.source == "grafana"
    assert signal.status is SignalStatus.FIRING
    assert signal.service == "payments-api"
    assert signal.environment == "prod"
    assert signal.severity is Severity.WARNING
    assert signal.title == "payments-api p99 latency above 1.5 s in prod"
    assert "threshold ≥ 1.5 s" in signal.text
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 57, 30, tzinfo=UTC)
    assert signal.alert_key == ALERT_KEY
    assert signal.group_key is not None and signal.group_key.startswith("{}/")
    assert signal.labels[VALUES_LABEL] == "A=1.84 C=1"
    assert signal.labels["grafana_folder"] == "Payments"
    assert {link.text: link.href for link in signal.links} == {
        "Alert rule": "https://grafana.example.com/alerting/grafana/de8k2p1q9xwjkd/view?orgId=1",
        "Silence": "https://grafana.example.com/alerting/silence/new?alertmanager=grafana"
        "&matcher=__alert_rule_uid__%3Dde8k2p1q9xwjkd&matcher=service%3Dpayments-api&orgId=1",
        "Dashboard": "https://grafana.example.com/d/payments-api-red?orgId=1",
        "Panel": "https://grafana.example.com/d/payments-api-red?orgId=1&viewPanel=4",
        "Runbook": "https://runbooks.example.com/payments/payments-api-high-latency",
        "Grafana": "https://grafana.example.com/",
    }


def test_resolved_sample_closes_the_same_alert() -> None:
    (resolved,) = SOURCE.parse(GRAFANA.delivery(GRAFANA.body("resolved.json")), ServiceMapping())

    assert resolved.status is SignalStatus.RESOLVED
    assert resolved.alert_key == ALERT_KEY
    assert resolved.service == "payments-api"
    assert resolved.occurred_at == datetime(2026, 11, 23, 12, 12, 30, tzinfo=UTC)
    assert resolved.labels[VALUES_LABEL] == "A=0.92 C=0"


def test_delivery_key_is_stable_and_tells_firing_from_resolved() -> None:
    key = SOURCE.delivery_key(GRAFANA.delivery(GRAFANA.body("firing.json")))

    assert SOURCE.delivery_key(GRAFANA.delivery(GRAFANA.body("firing.json"))) == key
    assert SOURCE.delivery_key(GRAFANA.delivery(GRAFANA.body("signed.json"))) == key  # same content
    assert SOURCE.delivery_key(GRAFANA.delivery(GRAFANA.body("resolved.json"))) != key
    assert (
        SOURCE.parse(GRAFANA.delivery(GRAFANA.body("firing.json")), ServiceMapping())[
            0
        ].delivery_key
        == key
    )


def test_large_group_parses_to_one_signal_per_alert() -> None:
    body = GRAFANA.payload("firing.json")
    template = body["alerts"][0]
    body["alerts"] = [
        {**template, "fingerprint": f"{i:016x}", "labels": {**template["labels"], "pod": str(i)}}
        for i in range(10_000)
    ]

    signals = SOURCE.parse(GRAFANA.delivery(json.dumps(body).encode()), ServiceMapping())

    assert len(signals) == 10_000
    assert len({s.alert_key for s in signals}) == 10_000


def test_service_mapping_with_aliases() -> None:
    mapping = ServiceMapping(aliases={"payments-api": "payments"})

    assert (
        SOURCE.parse(GRAFANA.delivery(GRAFANA.body("firing.json")), mapping)[0].service
        == "payments"
    )


# --- signatures -----------------------------------------------------------------------------


def test_signed_sample_verifies_over_its_exact_bytes() -> None:
    signed, signed_at = signed_sample()

    assert SOURCE.signature_header == SIGNATURE
    SOURCE.verify(signed, SECRET, signed_at)


def test_wrong_signature_is_forbidden() -> None:
    signed, signed_at = signed_sample()
    wrong = dict(signed.headers)
    wrong[SIGNATURE] = ("0" if wrong[SIGNATURE][0] != "0" else "1") + wrong[SIGNATURE][1:]

    with pytest.raises(AuthError, match="does not match") as caught:
        SOURCE.verify(GRAFANA.delivery(signed.body, wrong), SECRET, signed_at)
    assert caught.value.status == 403


def test_wrong_secret_is_forbidden() -> None:
    signed, signed_at = signed_sample()

    with pytest.raises(AuthError) as caught:
        SOURCE.verify(signed, "another-secret", signed_at)
    assert caught.value.status == 403


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_signature_is_unauthorized(value: str | None) -> None:
    headers = {} if value is None else {SIGNATURE: value}

    with pytest.raises(AuthError, match="missing") as caught:
        SOURCE.verify(GRAFANA.delivery(GRAFANA.body("firing.json"), headers), SECRET, RECEIVED)
    assert caught.value.status == 401


@pytest.mark.parametrize("offset", [-299, -300, 0, 299, 300])
def test_timestamp_within_five_minutes_is_accepted(offset: int) -> None:
    signed, signed_at = signed_sample()

    SOURCE.verify(signed, SECRET, signed_at + timedelta(seconds=offset))


@pytest.mark.parametrize("offset", [-301, 301, -86_400])
def test_timestamp_beyond_five_minutes_is_refused(offset: int) -> None:
    signed, signed_at = signed_sample()

    with pytest.raises(AuthError, match="limit 300 s") as caught:
        SOURCE.verify(signed, SECRET, signed_at + timedelta(seconds=offset))
    assert caught.value.status == 403


def test_timestamp_is_part_of_the_signed_message() -> None:
    body = GRAFANA.body("firing.json")
    headers = sign(body, "1795435200")
    headers[TIMESTAMP] = "1795435201"  # replayed with a fresher timestamp

    with pytest.raises(AuthError) as caught:
        SOURCE.verify(GRAFANA.delivery(body, headers), SECRET, RECEIVED)
    assert caught.value.status == 403


def test_body_only_signature_fails_when_a_timestamp_is_sent() -> None:
    body = GRAFANA.body("firing.json")
    headers = {**sign(body), TIMESTAMP: "1795435200"}

    with pytest.raises(AuthError):
        SOURCE.verify(GRAFANA.delivery(body, headers), SECRET, RECEIVED)


def test_alternative_timestamp_header_name_is_honoured() -> None:
    body = GRAFANA.body("firing.json")
    headers = sign(body, "1795435200")
    headers["x-grafana-alerting-signature-timestamp"] = headers.pop(TIMESTAMP)

    SOURCE.verify(GRAFANA.delivery(body, headers), SECRET, RECEIVED)


@pytest.mark.parametrize(
    "stamp", ["", "soon", "1795435200.5", "-1795435200", "١٧٩٥٤٣٥٢٠٠", "9" * 40]
)
def test_malformed_timestamp_is_refused(stamp: str) -> None:
    body = GRAFANA.body("firing.json")

    with pytest.raises(AuthError, match="Unix seconds") as caught:
        SOURCE.verify(GRAFANA.delivery(body, {**sign(body), TIMESTAMP: stamp}), SECRET, RECEIVED)
    assert caught.value.status == 403


def test_signature_over_reserialized_json_fails() -> None:
    signed, signed_at = signed_sample()
    stamp = signed.headers[TIMESTAMP]
    reserialized = json.dumps(json.loads(signed.body)).encode()
    assert reserialized != signed.body

    headers = sign(reserialized, stamp)

    with pytest.raises(AuthError) as caught:
        SOURCE.verify(GRAFANA.delivery(signed.body, headers), SECRET, signed_at)
    assert caught.value.status == 403


def test_unicode_body_with_correct_signature_passes() -> None:
    body = GRAFANA.payload("firing.json")
    body["alerts"][0]["annotations"]["summary"] = "Zahlungen: Latenz ≥ 1,5 s — 支付延迟 🚨"
    raw = json.dumps(body, ensure_ascii=False).encode("utf-8")

    SOURCE.verify(GRAFANA.delivery(raw, sign(raw)), SECRET, RECEIVED)
    (signal,) = SOURCE.parse(GRAFANA.delivery(raw), ServiceMapping())
    assert signal.title == "Zahlungen: Latenz ≥ 1,5 s — 支付延迟 🚨"


def test_uppercase_hex_signature_is_accepted() -> None:
    body = GRAFANA.body("firing.json")

    SOURCE.verify(
        GRAFANA.delivery(body, {SIGNATURE: sign(body)[SIGNATURE].upper()}), SECRET, RECEIVED
    )


# --- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"{not json", "invalid JSON"),
        (b'{"version": "1", "orgId": 1, "alerts": [], "x": "\xc3\x28"}', "not valid UTF-8"),
        (b'{"version": "1", "orgId": 1, "alerts": [], "x": -Infinity}', "invalid JSON number"),
        (b'{"version": "1", "orgId": 1, "alerts": [], "x": 18446744073709551616}', "out of range"),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "nested deeper"),
        (b"", "empty body"),
        (b"[]", "must be a JSON object, got list"),
        (b'{"version": "4", "alerts": []}', "looks like alertmanager"),
        (b'{"version": "1", "alerts": []}', "no orgId"),
        (b'{"version": "1", "orgId": 1}', "'alerts' list"),
        (b'{"version": "1", "orgId": 1, "alerts": [null]}', r"alerts\[0\] must be a JSON object"),
    ],
)
def test_bad_input_is_refused_with_a_reason(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason):
        SOURCE.parse(GRAFANA.delivery(body), ServiceMapping())


def test_registry_finds_the_adapter() -> None:
    assert get_source("grafana") is SOURCE
    assert SOURCE.name == "grafana"
