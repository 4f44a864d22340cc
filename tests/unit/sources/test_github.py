from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

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
from oncall_tui.sources.github import SOURCE
from tests.unit.sources.conftest import RECEIVED, Adapter

SECRET = "sample-secret"
MAPPING = ServiceMapping()
EVENT = {"x-github-event": "deployment_status"}


GITHUB = Adapter("github", EVENT)
SUCCESS = "deployment_status_success.json"


def parse(payload: dict[str, Any]) -> Any:
    [signal] = SOURCE.parse(GITHUB.delivery(json.dumps(payload).encode()), MAPPING)
    return signal


def test_registered_under_its_name() -> None:
    assert get_source("github") is SOURCE
    assert SOURCE.signature_header == "x-hub-signature-256"


def test_success_sample() -> None:
    [signal] = SOURCE.parse(GITHUB.sample("deployment_status_success"), MAPPING)

    assert signal.source == "github"
    assert signal.kind is SignalKind.DEPLOY
    assert signal.status is SignalStatus.SUCCESS
    assert signal.severity is Severity.INFO
    assert signal.service == "payments-api"  # the repository name: the payload names none
    assert signal.environment == "prod"
    assert signal.title == "Deploy 9f4c2e1 (main) to prod: success"
    assert signal.text == "Deployed 2026.11.23.3"
    assert signal.labels == {
        "sha": "9f4c2e1b7a3d5f60c8e2b9a14d7f3c6e0a5b8d21",
        "ref": "main",
        "environment": "prod",
        "repository": "acme-payments/payments-api",
        "creator": "github-actions[bot]",
        "task": "deploy",
        "state": "success",
    }
    run = "https://github.com/acme-payments/payments-api/actions/runs/12034567890"
    assert signal.links == [
        Link(href=f"{run}/job/33233333322", text="status"),
        Link(href=f"{run}/job/33233333322", text="logs"),
        Link(href="https://payments-api.prod.acme-payments.example", text="environment"),
    ]
    assert signal.alert_key == "github:deployment:1873421907"
    assert signal.delivery_key == "github:deployment_status:3951234876"
    assert signal.occurred_at == datetime(2026, 11, 23, 11, 52, 30, tzinfo=UTC)


def test_rollback_sample() -> None:
    [signal] = SOURCE.parse(GITHUB.sample("deployment_status_rollback"), MAPPING)

    assert signal.kind is SignalKind.ROLLBACK
    assert signal.status is SignalStatus.SUCCESS
    assert signal.service == "payments-api"
    assert signal.title == "Rollback 3b7e0d4 (main) to prod: success"
    assert signal.labels["creator"] == "mara-okafor"
    assert signal.alert_key == "github:deployment:1873598214"
    assert signal.occurred_at == datetime(2026, 11, 23, 12, 21, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    ("state", "status", "severity"),
    [
        ("success", SignalStatus.SUCCESS, Severity.INFO),
        ("failure", SignalStatus.FAILURE, Severity.ERROR),
        ("error", SignalStatus.FAILURE, Severity.ERROR),
        ("pending", SignalStatus.PENDING, Severity.INFO),
        ("queued", SignalStatus.PENDING, Severity.INFO),
        ("in_progress", SignalStatus.IN_PROGRESS, Severity.INFO),
        ("inactive", SignalStatus.INACTIVE, Severity.INFO),
    ],
)
def test_states(state: str, status: SignalStatus, severity: Severity) -> None:
    payload = GITHUB.payload(SUCCESS)
    payload["deployment_status"]["state"] = state
    signal = parse(payload)
    assert signal.status is status
    assert signal.severity is severity
    assert signal.title.endswith(f": {state}")


def test_every_status_of_one_deployment_shares_the_alert_key() -> None:
    pending, success = GITHUB.payload(SUCCESS), GITHUB.payload(SUCCESS)
    pending["deployment_status"] |= {"state": "in_progress", "id": 1, "updated_at": None}
    assert parse(pending).alert_key == parse(success).alert_key == "github:deployment:1873421907"
    assert parse(pending).occurred_at == datetime(2026, 11, 23, 11, 52, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("task", "extra", "description", "kind"),
    [
        ("deploy:rollback", {}, "", SignalKind.ROLLBACK),
        ("deploy", {"rollback": True}, "", SignalKind.ROLLBACK),
        ("deploy", {"rollback": "yes"}, "", SignalKind.DEPLOY),
        ("deploy", {}, "Revert #4411: bad retry policy", SignalKind.ROLLBACK),
        ("deploy", {}, "Deployed 2026.11.23.3", SignalKind.DEPLOY),
    ],
)
def test_rollback_detection(
    task: str, extra: dict[str, Any], description: str, kind: SignalKind
) -> None:
    payload = GITHUB.payload(SUCCESS)
    payload["deployment"] |= {"task": task, "payload": extra}
    payload["deployment_status"]["description"] = description
    assert parse(payload).kind is kind


def test_service_from_deployment_payload_through_mapping() -> None:
    payload = GITHUB.payload(SUCCESS)
    payload["deployment"]["payload"] = {"service": "payments-api-prod"}
    [signal] = SOURCE.parse(
        GITHUB.delivery(json.dumps(payload).encode()),
        ServiceMapping(aliases={"payments-api-prod": "payments"}),
    )
    assert signal.service == "payments"


def test_delivery_key_is_the_status_id_and_stable_across_redelivery() -> None:
    first = GITHUB.sample("deployment_status_success")
    redelivered = RawDelivery(
        source="github",
        body=first.body,
        headers=dict(first.headers),
        received_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )
    assert SOURCE.delivery_key(redelivered) == SOURCE.delivery_key(first)
    assert SOURCE.delivery_key(first) == "github:deployment_status:3951234876"
    assert SOURCE.delivery_key(GITHUB.delivery(first.body, {})) == SOURCE.delivery_key(first)
    other = SOURCE.delivery_key(GITHUB.sample("deployment_status_rollback"))
    assert other == "github:deployment_status:3951876543"


def test_a_signed_body_replayed_under_a_new_delivery_guid_keeps_its_key() -> None:
    """``X-GitHub-Delivery`` is not signed; the deployment status's ``id`` is in the signed body
    (https://docs.github.com/en/webhooks/webhook-events-and-payloads#deployment_status)."""
    captured = GITHUB.sample("deployment_status_success")
    replayed = RawDelivery(
        source="github",
        body=captured.body,
        headers={**captured.headers, "x-github-delivery": "0badc0de-0000-4000-8000-00000000beef"},
        received_at=datetime(2026, 11, 24, 9, 0, tzinfo=UTC),
    )
    SOURCE.verify(replayed, SECRET, RECEIVED)  # still validly signed: only the key can tell
    assert SOURCE.delivery_key(replayed) == SOURCE.delivery_key(captured)
    [signal] = SOURCE.parse(replayed, MAPPING)
    assert signal.delivery_key == SOURCE.delivery_key(captured)


def test_deployment_events_are_keyed_by_the_deployment_id_others_by_the_guid() -> None:
    body = GITHUB.sample("deployment_status_success").body
    guid = {"x-github-delivery": "d-1"}
    deployment = GITHUB.delivery(body, {"x-github-event": "deployment", **guid})
    assert SOURCE.delivery_key(deployment) == "github:deployment:1873421907"
    ping = GITHUB.delivery(
        b'{"zen": "Design for failure.", "hook_id": 1}', {"x-github-event": "ping", **guid}
    )
    assert SOURCE.delivery_key(ping) == "github:d-1"
    payload = GITHUB.payload(SUCCESS)
    del payload["deployment_status"]["id"]
    assert SOURCE.delivery_key(
        GITHUB.delivery(json.dumps(payload).encode(), {**EVENT, **guid})
    ) == ("github:d-1")
    body_keyed = SOURCE.delivery_key(GITHUB.delivery(b"not json", {}))
    assert body_keyed.startswith("github:sha256:")
    assert body_keyed == SOURCE.delivery_key(GITHUB.delivery(b"not json", {}))


# --- signatures -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["deployment_status_success", "deployment_status_rollback"])
def test_sample_signatures_verify(name: str) -> None:
    SOURCE.verify(GITHUB.sample(name), SECRET, RECEIVED)


BODY = b'{"action":"created"}'
GOOD = hmac_sha256_hex(SECRET, BODY)


def signed(body: bytes, signature: str) -> RawDelivery:
    return GITHUB.delivery(body, {**EVENT, "x-hub-signature-256": signature})


@pytest.mark.parametrize("header", [f"sha256={GOOD}", f"sha256={GOOD.upper()}", f" sha256={GOOD} "])
def test_accepted_signatures(header: str) -> None:
    SOURCE.verify(signed(BODY, header), SECRET, RECEIVED)


@pytest.mark.parametrize(
    "header",
    [
        f"sha256={'0' * 64}",
        GOOD,
        f"sha1={GOOD}",
        f"v1={GOOD}",
        f"sha256={GOOD[:-2]}",
        f"sha256={GOOD},sha256={GOOD}",
        "sha256=",
    ],
)
def test_rejected_signatures(header: str) -> None:
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(signed(BODY, header), SECRET, RECEIVED)
    assert caught.value.status == 403


def test_wrong_secret_is_forbidden() -> None:
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(GITHUB.sample("deployment_status_success"), "another-secret", RECEIVED)
    assert caught.value.status == 403


def test_missing_signature_is_unauthorized_even_with_legacy_sha1() -> None:
    original = GITHUB.sample("deployment_status_success")
    headers = {k: v for k, v in original.headers.items() if k != "x-hub-signature-256"}
    assert "x-hub-signature" in headers
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(GITHUB.delivery(original.body, headers), SECRET, RECEIVED)
    assert caught.value.status == 401


def test_signature_over_reserialized_json_fails() -> None:
    raw = GITHUB.sample("deployment_status_success").body
    reserialized = json.dumps(json.loads(raw)).encode()
    assert reserialized != raw
    with pytest.raises(AuthError) as caught:
        SOURCE.verify(
            signed(raw, f"sha256={hmac_sha256_hex(SECRET, reserialized)}"), SECRET, RECEIVED
        )
    assert caught.value.status == 403


def test_unicode_body_with_correct_signature_verifies_and_parses() -> None:
    payload = GITHUB.payload(SUCCESS)
    payload["deployment_status"]["description"] = "Déployé – 部署成功 ✓"
    body = json.dumps(payload, ensure_ascii=False).encode()
    SOURCE.verify(signed(body, f"sha256={hmac_sha256_hex(SECRET, body)}"), SECRET, RECEIVED)
    assert parse(payload).text == "Déployé – 部署成功 ✓"


# --- bad input --------------------------------------------------------------------------------


@pytest.mark.parametrize("event", ["ping", "push", "deployment", "workflow_run"])
def test_other_events_are_refused_by_name(event: str) -> None:
    body = b'{"zen": "Design for failure.", "hook_id": 498213577}'
    with pytest.raises(ParseError, match=f"unsupported GitHub event '{event}'"):
        SOURCE.parse(GITHUB.delivery(body, {"x-github-event": event}), MAPPING)


def broken(section: str, **changes: Any) -> bytes:
    payload = GITHUB.payload(SUCCESS)
    payload[section] |= changes
    return json.dumps(payload).encode()


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"", "empty body"),
        (b"{not json", "invalid JSON"),
        (b'{"action": "cr\xe9ated"}', "not valid UTF-8"),
        (b'{"deployment": {"id": NaN}}', "invalid JSON number NaN"),
        (b'{"deployment": {"id": 18446744073709551616}}', "integer out of range"),
        (b"{" + b'"a":{' * 10_000 + b"}" * 10_001, "nested deeper"),
        (b"[]", "payload must be a JSON object"),
        (b'{"action": "created"}', "deployment_status must be a JSON object"),
        (b'{"deployment_status": {"state": "success"}}', "deployment must be a JSON object"),
        (broken("deployment_status", state="exploded"), "unknown deployment_status.state"),
        (broken("deployment_status", state=None), "unknown deployment_status.state"),
        (broken("deployment", id=None), "deployment has no id"),
    ],
)
def test_bad_input_is_a_parse_error(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError, match=reason) as caught:
        SOURCE.parse(GITHUB.delivery(body), MAPPING)
    assert caught.value.status == 400
