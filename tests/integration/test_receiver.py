"""The HTTP contract of the receiver (DESIGN §5), over a real server and a DB on disk.

Senders act on our status codes (Alertmanager and PagerDuty drop on any 4xx and retry on 5xx),
so each test pins a status code and the row it leaves in the DB, or the row it must not leave.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path

import pytest

from oncall_tui.store.journal import Store
from tests.benchmarks._common import run_loadgen
from tests.integration.conftest import ReceiverFactory, ServeFactory
from tests.support.samples import SAMPLE_SECRET, sample, sample_headers

SIGNED = {"pagerduty", "github", "grafana"}


# --- accepted deliveries -------------------------------------------------------------------

ACCEPTED_CASES = [
    # (source, body, headers file or None, service of the incident it opens or None)
    ("alertmanager", "alertmanager/firing.json", None, "payment-processor"),
    ("grafana", "grafana/firing.json", None, "payments-api"),
    ("grafana", "grafana/signed.json", "grafana/signed.headers.json", "payments-api"),
    (
        "pagerduty",
        "pagerduty/triggered.json",
        "pagerduty/triggered.headers.json",
        "payment-processor",
    ),
    (
        "pagerduty",
        "pagerduty/triggered.json",
        "pagerduty/rotated.headers.json",
        "payment-processor",
    ),
    ("datadog", "datadog/triggered.json", None, "payments-api"),
    ("events-v2", "events-v2/trigger.json", None, "payment-processor"),
    ("cloudevents", "cloudevents/breaker_opened.json", None, "payments-api"),
    (
        "github",
        "github/deployment_status_success.json",
        "github/deployment_status_success.headers.json",
        None,
    ),
    ("events-v2", "events-v2/change_deploy.json", None, None),
]


@pytest.mark.parametrize(("source", "body_file", "headers_file", "service"), ACCEPTED_CASES)
def test_a_valid_delivery_is_committed_before_202(
    receiver: ReceiverFactory,
    source: str,
    body_file: str,
    headers_file: str | None,
    service: str | None,
) -> None:
    body = sample(body_file).read_bytes()
    headers = sample_headers(headers_file) if headers_file else {}
    signed = headers_file is not None and source in SIGNED
    endpoint = receiver(sources={source: {"secret": SAMPLE_SECRET}} if signed else {})

    reply = endpoint.post(source, body, headers)

    assert reply.status == 202, reply.body
    assert set(reply.json) == {"status", "delivery_id", "signals"}
    assert reply.json["status"] == "received"
    assert reply.json["signals"] >= 1
    delivery_id = reply.json["delivery_id"]
    stored = endpoint.rows("SELECT source, body FROM deliveries WHERE id = ?", (delivery_id,))
    assert stored == [(source, body)]  # committed before the 202; folded right after
    endpoint.folded()
    assert endpoint.rows("SELECT status FROM deliveries WHERE id = ?", (delivery_id,)) == [
        ("accepted",)
    ]
    signals = endpoint.rows("SELECT count(*) FROM signals WHERE delivery_id = ?", (delivery_id,))
    assert signals == [(reply.json["signals"],)]
    if service is not None:
        incidents = endpoint.rows("SELECT service, state FROM incidents")
        assert incidents == [(service, "triggered")]


def test_trigger_then_resolve_resolves_the_incident(receiver: ReceiverFactory) -> None:
    endpoint = receiver()
    firing = endpoint.post("events-v2", sample("events-v2/trigger.json").read_bytes())
    resolved = endpoint.post("events-v2", sample("events-v2/resolve.json").read_bytes())
    assert (firing.status, resolved.status) == (202, 202)
    endpoint.folded()
    assert endpoint.rows("SELECT state FROM incidents") == [("resolved",)]


def test_concurrent_retries_of_one_delivery_are_stored_once(receiver: ReceiverFactory) -> None:
    endpoint = receiver(sources={"pagerduty": {"secret": SAMPLE_SECRET}})
    body = sample("pagerduty/triggered.json").read_bytes()
    headers = sample_headers("pagerduty/triggered.headers.json")
    barrier = threading.Barrier(5)

    def send(_: int) -> tuple[int, dict[str, object]]:
        barrier.wait(timeout=10)
        reply = endpoint.post("pagerduty", body, headers)
        return reply.status, reply.json

    with ThreadPoolExecutor(5) as pool:
        replies = list(pool.map(send, range(5)))

    assert [status for status, _ in replies] == [202] * 5
    assert sorted(str(r["status"]) for _, r in replies) == ["duplicate"] * 4 + ["received"]
    ids = {r["delivery_id"] for _, r in replies}
    assert len(ids) == 1
    key = f"pagerduty:event:{json.loads(body)['event']['id']}"
    endpoint.folded()
    rows = endpoint.rows(
        "SELECT id, status, attempts FROM deliveries WHERE delivery_key = ?", (key,)
    )
    assert rows == [(ids.pop(), "accepted", 5)]
    assert endpoint.rows("SELECT count(*) FROM deliveries") == [(1,)]
    assert endpoint.rows("SELECT count(*) FROM signals") == [(1,)]


# --- refused deliveries: the status, and the raw bytes kept with the reason ----------------


@pytest.mark.parametrize(
    ("authorization", "status", "reason"),
    [(None, 401, "missing Authorization"), ("Bearer wrong", 403, "invalid bearer token")],
)
def test_bearer_token_is_required_when_configured(
    receiver: ReceiverFactory, authorization: str | None, status: int, reason: str
) -> None:
    endpoint = receiver(sources={"alertmanager": {"token": "t0ken"}})
    body = sample("alertmanager/firing.json").read_bytes()
    headers = {"Authorization": authorization} if authorization else {}

    refused = endpoint.post("alertmanager", body, headers)
    accepted = endpoint.post("alertmanager", body, {"Authorization": "Bearer t0ken"})

    assert refused.status == status
    assert reason in refused.json["error"]
    assert accepted.status == 202
    endpoint.folded()
    assert [row[:3] for row in endpoint.deliveries()] == [
        ("alertmanager", "rejected", status),
        ("alertmanager", "accepted", 202),
    ]
    assert reason in (endpoint.deliveries()[0][3] or "")
    assert endpoint.rows("SELECT count(*) FROM signals") == [(2,)]


SIGNED_CASES = [
    (
        "pagerduty",
        "pagerduty/triggered.json",
        "pagerduty/triggered.headers.json",
        "X-PagerDuty-Signature",
    ),
    (
        "github",
        "github/deployment_status_success.json",
        "github/deployment_status_success.headers.json",
        "X-Hub-Signature-256",
    ),
    (
        "grafana",
        "grafana/signed.json",
        "grafana/signed.headers.json",
        "x-grafana-alerting-signature",
    ),
]


@pytest.mark.parametrize(("source", "body_file", "headers_file", "signature"), SIGNED_CASES)
@pytest.mark.parametrize("tamper", ["body", "signature"])
def test_bad_or_missing_signature_is_refused_and_kept(
    receiver: ReceiverFactory,
    source: str,
    body_file: str,
    headers_file: str,
    signature: str,
    tamper: str,
) -> None:
    endpoint = receiver(sources={source: {"secret": SAMPLE_SECRET}})
    body = sample(body_file).read_bytes()
    headers = sample_headers(headers_file)
    if tamper == "body":
        body = body.replace(b"payment", b"pay\xc3\xa9ment", 1)  # still valid JSON and UTF-8
        expected = 403
    else:
        headers = {k: v for k, v in headers.items() if k.lower() != signature.lower()}
        expected = 401

    reply = endpoint.post(source, body, headers)

    assert reply.status == expected, reply.body
    assert reply.json["delivery_id"] is not None
    [(stored_source, status, http_status, reason, stored_body)] = endpoint.deliveries()
    assert (stored_source, status, http_status, stored_body) == (source, "rejected", expected, body)
    assert reason and reason == reply.json["error"]
    assert endpoint.rows("SELECT count(*) FROM signals") == [(0,)]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b'{"version": "4", "alerts": [', id="invalid-json"),
        pytest.param(b'{"receiver": "\xff\xfe"}', id="invalid-utf8"),
        pytest.param(b"", id="empty"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deep-nesting"),
    ],
)
def test_unparsable_body_is_400_with_raw_bytes_kept(receiver: ReceiverFactory, body: bytes) -> None:
    endpoint = receiver()
    reply = endpoint.post("alertmanager", body)
    assert reply.status == 400
    assert reply.json["error"]
    assert endpoint.deliveries() == [("alertmanager", "rejected", 400, reply.json["error"], body)]


def test_form_content_type_is_415(receiver: ReceiverFactory) -> None:
    endpoint = receiver()
    reply = endpoint.post(
        "alertmanager", b"a=1", {"Content-Type": "application/x-www-form-urlencoded"}
    )
    assert reply.status == 415
    assert endpoint.deliveries() == [("alertmanager", "rejected", 415, reply.json["error"], b"a=1")]


def test_unknown_source_is_what_the_ingestor_says(receiver: ReceiverFactory) -> None:
    endpoint = receiver()
    reply = endpoint.post("nagios", b'{"x": 1}')
    assert reply.status == 404
    assert "unknown source" in reply.json["error"]
    assert [row[:3] for row in endpoint.deliveries()] == [("nagios", "rejected", 404)]
    assert endpoint.request("GET", "/webhooks/alertmanager").status == 405


# --- the store failing: 503 so the sender retries, and recovery ---------------------------


def test_a_locked_store_is_503_with_retry_after_then_recovers(receiver: ReceiverFactory) -> None:
    endpoint = receiver(busy_timeout_ms=200)
    body = sample("alertmanager/firing.json").read_bytes()
    with closing(sqlite3.connect(endpoint.db, isolation_level=None)) as blocker:
        blocker.execute("BEGIN IMMEDIATE")
        refused = endpoint.post("alertmanager", body)
        health = endpoint.request("GET", "/healthz")
        blocker.execute("ROLLBACK")
    accepted = endpoint.post("alertmanager", body)
    after = endpoint.request("GET", "/healthz")

    assert refused.status == 503
    assert int(refused.headers["retry-after"]) > 0
    assert "locked" in refused.json["error"]
    assert health.status == 200  # readers are not blocked by a writer
    # ... and health says what is wrong, not "ok", until a commit succeeds again.
    assert health.json["status"] == "degraded"
    assert "cannot commit" in health.json["reason"] and "locked" in health.json["reason"]
    assert after.json["status"] == "ok" and "reason" not in after.json
    assert accepted.status == 202
    assert accepted.json["status"] == "received"  # the refused attempt left nothing behind
    endpoint.folded()
    assert [row[1] for row in endpoint.deliveries()] == ["accepted"]


def test_a_read_only_db_is_503_then_recovers_once_writable(
    serve_process: ServeFactory, tmp_path: Path
) -> None:
    db = tmp_path / "read-only.db"
    Store.open(db).close()
    db.chmod(0o444)
    server = serve_process(db, honour_file_modes=True)
    body = sample("alertmanager/firing.json").read_bytes()

    refused = server.endpoint.post("alertmanager", body)
    health = server.endpoint.request("GET", "/healthz")
    for path in tmp_path.glob("read-only.db*"):  # SQLite gave -wal/-shm the DB's mode
        path.chmod(0o644)
    accepted = server.endpoint.post("alertmanager", body)

    assert refused.status == 503, refused.body
    assert int(refused.headers["retry-after"]) > 0
    assert health.status == 200
    assert accepted.status == 202, accepted.body
    server.endpoint.folded()
    assert [row[1] for row in server.endpoint.deliveries()] == ["accepted"]
    assert server.terminate() == 0


def test_senders_that_keep_the_queue_full_do_not_starve_the_fold(
    receiver: ReceiverFactory,
) -> None:
    """Eight senders posting as fast as answers come keep the writer's queue from ever being
    empty; the fold must still have its share, so the incident's count moves during the storm
    (it was 3 % of the deliveries acknowledged by the storm's end when the fold waited for an
    empty queue; its share of the writer's time makes it about 15 %)."""
    endpoint = receiver()
    folded_during: list[int] = []
    storming = threading.Event()
    storming.set()

    def watch() -> None:
        while storming.is_set():
            with closing(sqlite3.connect(endpoint.db, timeout=10)) as conn:
                folded_during.append(conn.execute("SELECT count(*) FROM signals").fetchone()[0])
            time.sleep(0.1)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        report = run_loadgen(endpoint.port, source="alertmanager", count=3000, run="full")
    finally:
        storming.clear()
        watcher.join()
    assert report.ok(202) == 3000, report.statuses
    assert max(folded_during) >= 0.08 * 3000, folded_during
    endpoint.folded()
