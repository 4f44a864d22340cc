"""The receiver against what a hostile client on the network, or a web page in the engineer's
browser, can send: oversized heads, floods of refused requests, terminal escapes in the URL,
cross-site posts and DNS rebinding. And the promise behind a 202: acknowledged means on disk.

A real server on loopback and the DB on disk, as in test_receiver.py.
"""

from __future__ import annotations

import http.client
import json
import socket
import string
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from oncall_tui.cli import cli
from oncall_tui.config import Settings
from oncall_tui.core.clock import FixedClock
from oncall_tui.ingest.prepare import UNKNOWN_SOURCE_CHARS
from oncall_tui.ingest.record import UNAUTHENTICATED_KEEP_BYTES, Ingestor
from oncall_tui.server.app import create_app
from oncall_tui.server.protocol import MAX_HEAD_BYTES
from oncall_tui.server.runner import ReceiverThread
from oncall_tui.store.db import connect, write_transaction
from oncall_tui.store.journal import Store
from oncall_tui.store.refusals import KEPT_PER_MINUTE, UNKNOWN_SOURCE
from tests.integration.conftest import STORY_TIME, Endpoint, ReceiverFactory
from tests.support.receiver_http import LOOPBACK, post_once, with_json_type
from tests.support.samples import sample

TOKEN = "the-right-token"


def exchange_raw(port: int, data: bytes) -> bytes:
    """Send ``data`` in one write and read until the server closes (or resets) the connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(data)
        received = b""
        try:
            while chunk := sock.recv(65536):
                received += chunk
        except ConnectionResetError:
            pass  # refused with our bytes unread: what came before the reset still counts
        return received


def stored_bytes(db: Path) -> int:
    """The DB file and its WAL, as the disk sees them."""
    return sum(
        path.stat().st_size for path in (db, db.with_name(f"{db.name}-wal")) if path.exists()
    )


@pytest.fixture
def receiver_with(tmp_path: Path) -> Iterator[Callable[..., Endpoint]]:
    """A receiver with server settings of the test's choosing (the conftest one has defaults)."""
    threads: list[ReceiverThread] = []

    def start(**server: Any) -> Endpoint:
        settings = Settings(
            db=tmp_path / "hostile.db",
            server={"host": "127.0.0.1", "port": 0, **server},
            sources={"alertmanager": {"token": TOKEN}},
        )
        thread = ReceiverThread(settings, FixedClock(STORY_TIME))
        port = thread.start()
        threads.append(thread)
        return Endpoint(port, settings.db)

    yield start
    for thread in threads:
        thread.stop()


# --- the request head: counted whole, however it arrives -----------------------------------


@pytest.mark.parametrize("head_kib", [20, 100])
def test_a_head_over_the_limit_is_431_even_when_it_arrives_in_one_read(
    receiver: ReceiverFactory, head_kib: int
) -> None:
    endpoint = receiver()
    body = sample("alertmanager/firing.json").read_bytes()
    padding = b"v" * (head_kib * 1024)
    request = (
        b"POST /webhooks/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Content-Type: application/json\r\nX-Padding: " + padding + b"\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    assert len(request) > MAX_HEAD_BYTES

    answer = exchange_raw(endpoint.port, request)

    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert endpoint.rows("SELECT count(*) FROM deliveries") == [(0,)]
    assert endpoint.request("GET", "/healthz").status == 200


# --- refusals of unauthenticated senders: counted, a few kept, each capped -------------------


def test_a_flood_of_wrong_token_requests_is_counted_and_does_not_fill_the_disk(
    receiver: ReceiverFactory,
) -> None:
    endpoint = receiver(sources={"alertmanager": {"token": TOKEN}})
    body = sample("alertmanager/firing.json").read_bytes()
    headers = {
        "Content-Type": "application/json",
        "Authorization": "Bearer not-the-token",
        "X-Padding": "v" * 15_000,  # a head just under the 16 KiB bound: the app sees it
    }
    before = stored_bytes(endpoint.db)

    def send(count: int) -> list[int]:
        conn = http.client.HTTPConnection(LOOPBACK, endpoint.port, timeout=30)
        with closing(conn):
            statuses = []
            for _ in range(count):
                status, _, conn = post_once(
                    conn, endpoint.port, "/webhooks/alertmanager", body, headers
                )
                statuses.append(int(status))
            return statuses

    with ThreadPoolExecutor(6) as pool:
        statuses = [s for batch in pool.map(send, [50] * 6) for s in batch]
    growth = stored_bytes(endpoint.db) - before

    assert statuses == [403] * 300
    assert growth < 2_000_000, f"300 refused requests grew the DB by {growth / 1e6:.1f} MB"
    kept = endpoint.rows("SELECT headers, body, reason FROM deliveries WHERE http_status = 403")
    assert len(kept) == KEPT_PER_MINUTE
    for stored_headers, stored_body, reason in kept:
        assert len(stored_headers) <= UNAUTHENTICATED_KEEP_BYTES
        assert json.loads(stored_headers)["authorization"] == "[redacted]"
        assert stored_body == body[:UNAUTHENTICATED_KEEP_BYTES]
        assert "header bytes" in reason and "kept" in reason
    assert endpoint.rows("SELECT source, http_status, count, kept FROM refusals") == [
        ("alertmanager", 403, 300, KEPT_PER_MINUTE)
    ]
    journaled = endpoint.rows("SELECT count(*) FROM journal WHERE kind = 'delivery.rejected'")
    assert journaled == [(KEPT_PER_MINUTE,)]
    health = endpoint.request("GET", "/healthz").json
    assert health["refused_last_minute"] == {"count": 300, "stored": KEPT_PER_MINUTE}

    # The engineer sees the flood from the command line, the counted and the kept alike.
    runner = CliRunner()
    listing = runner.invoke(cli, ["--db", str(endpoint.db), "deliveries", "--rejected"])
    assert listing.exit_code == 0, listing.output
    assert listing.output.count(" 403 ") == KEPT_PER_MINUTE
    assert f"{300 - KEPT_PER_MINUTE} more refused requests were counted" in listing.output
    counts = runner.invoke(cli, ["--db", str(endpoint.db), "deliveries", "refusals", "--json"])
    assert counts.exit_code == 0, counts.output
    assert [
        (c["source"], c["http_status"], c["count"], c["stored"]) for c in json.loads(counts.output)
    ] == [("alertmanager", 403, 300, KEPT_PER_MINUTE)]


HOSTILE_SEGMENT = (
    "%1B%5D52%3Bc%3BZXZpbA%3D%3D%07"  # OSC 52: write to the clipboard
    "%1B%5D0%3Bpwned%07"  # OSC 0: the window title
    "%1B%5B2J"  # CSI 2J: clear the screen
    "%E2%80%AE" + "x" * 300  # a bidi override, and length
)


def test_an_unknown_source_is_stored_escaped_and_capped(receiver: ReceiverFactory) -> None:
    endpoint = receiver()
    reply = endpoint.post(HOSTILE_SEGMENT, b'{"x": 1}')

    assert reply.status == 404
    [(source, reason)] = endpoint.rows("SELECT source, reason FROM deliveries")
    [(journaled,)] = endpoint.rows("SELECT body FROM journal WHERE kind = 'delivery.rejected'")
    printable = set(string.printable) - set("\t\n\r\x0b\x0c")
    for text in (source, reason, reply.json["error"], json.loads(journaled)["source"]):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text, text
    assert len(source) <= UNKNOWN_SOURCE_CHARS
    assert set(source) - {"…"} <= printable, source
    assert source.startswith("\\x1b]52;c;ZXZpbA==\\x07"), "what knocked stays legible"


def test_a_flood_naming_a_new_unknown_source_each_time_is_bounded_all_the_same(
    receiver: ReceiverFactory,
) -> None:
    endpoint = receiver()
    conn = http.client.HTTPConnection(LOOPBACK, endpoint.port, timeout=30)
    with closing(conn):
        for n in range(60):
            path = f"/webhooks/nagios-{n}"
            status, _, conn = post_once(conn, endpoint.port, path, b"{}", with_json_type({}))
            assert status == "404"

    assert endpoint.rows("SELECT count(*) FROM deliveries") == [(KEPT_PER_MINUTE,)]
    assert endpoint.rows("SELECT source, http_status, count, kept FROM refusals") == [
        (UNKNOWN_SOURCE, 404, 60, KEPT_PER_MINUTE)
    ]


# --- web pages: cross-site posts and DNS rebinding --------------------------------------------


def test_a_cross_site_form_post_is_415_on_webhooks_and_sessions(receiver: ReceiverFactory) -> None:
    endpoint = receiver()
    alert = sample("alertmanager/firing.json").read_bytes()
    session = json.dumps({"id": "forged-session", "repo": "acme/payments"}).encode()

    as_text = {"Content-Type": "text/plain"}  # what a <form enctype="text/plain"> sends
    webhook = endpoint.request("POST", "/webhooks/alertmanager", alert, as_text)
    sessions = endpoint.request("POST", "/sessions", session, as_text)
    untyped_webhook = endpoint.request("POST", "/webhooks/alertmanager", alert, {})
    untyped_session = endpoint.request("POST", "/sessions", session, {})

    assert (webhook.status, sessions.status) == (415, 415), (webhook.body, sessions.body)
    assert (untyped_webhook.status, untyped_session.status) == (415, 415)
    assert "application/json" in webhook.json["error"]
    assert endpoint.rows("SELECT count(*) FROM sessions") == [(0,)]
    assert endpoint.rows("SELECT count(*) FROM incidents") == [(0,)]


def test_a_cloudevent_in_binary_mode_may_carry_any_type(receiver: ReceiverFactory) -> None:
    """Its data's type is the Content-Type; the ce-* headers are what no web page can send."""
    endpoint = receiver()
    headers = {
        "Content-Type": "text/plain",
        "ce-specversion": "1.0",
        "ce-id": "breaker-1",
        "ce-source": "//payments-api/breaker",
        "ce-type": "io.resilience4j.circuitbreaker.opened",
    }
    reply = endpoint.request("POST", "/webhooks/cloudevents", b"breaker open", headers)
    assert reply.status == 202, reply.body


@pytest.mark.parametrize("origin", ["https://evil.example", "null"])
def test_a_request_from_a_web_page_is_403_and_not_stored(
    receiver: ReceiverFactory, origin: str
) -> None:
    endpoint = receiver()
    alert = sample("alertmanager/firing.json").read_bytes()
    session = json.dumps({"id": "forged-session"}).encode()
    typed = {"Content-Type": "application/json", "Origin": origin}

    webhook = endpoint.request("POST", "/webhooks/alertmanager", alert, typed)
    sessions = endpoint.request("POST", "/sessions", session, typed)

    assert (webhook.status, sessions.status) == (403, 403), (webhook.body, sessions.body)
    assert endpoint.rows("SELECT count(*) FROM deliveries") == [(0,)]
    assert endpoint.rows("SELECT count(*) FROM sessions") == [(0,)]
    refused = endpoint.request("GET", "/healthz").json["refused_requests"]
    assert refused["browser_origin"] == 2


def test_a_rebound_host_is_421_on_health_and_context(receiver: ReceiverFactory) -> None:
    endpoint = receiver()
    registered = endpoint.request(
        "POST",
        "/sessions",
        json.dumps({"id": "s-1", "repo": "acme/payments"}).encode(),
        {"Content-Type": "application/json"},
    )
    assert registered.status == 201, registered.body
    rebound = {"Host": f"attacker.example:{endpoint.port}"}

    health = endpoint.request("GET", "/healthz", headers=rebound)
    context = endpoint.request("GET", "/sessions/s-1/context", headers=rebound)
    webhook = endpoint.post("alertmanager", b"{}", rebound)

    assert [health.status, context.status, webhook.status] == [421, 421, 421]
    assert b"payments" not in context.body
    for name in ("localhost", "127.0.0.1", "LOCALHOST", "[::1]"):
        for host in (name, f"{name}:{endpoint.port}"):
            reply = endpoint.request("GET", "/sessions/s-1/context", headers={"Host": host})
            assert reply.status == 200, host


def test_configured_host_names_are_answered(receiver_with: Callable[..., Endpoint]) -> None:
    endpoint = receiver_with(allowed_hosts=["oncall.example"])
    named = endpoint.request("GET", "/healthz", headers={"Host": "oncall.example:9977"})
    other = endpoint.request("GET", "/healthz", headers={"Host": "other.example"})
    assert (named.status, other.status) == (200, 421)


# --- health: degraded when the store cannot commit; the DB path for this machine only ---------


async def test_health_shows_the_db_path_to_this_machine_only(
    tmp_path: Path, receiver: ReceiverFactory
) -> None:
    local = receiver().request("GET", "/healthz").json
    # A client elsewhere, as the app sees it (the socket's peer address), without sending a
    # packet anywhere but this process: the app is called in process.
    settings = Settings(db=tmp_path / "remote.db", sources={"alertmanager": {"token": TOKEN}})
    app = create_app(settings, FixedClock(STORY_TIME))
    transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 40000))
    async with (
        app.rest.router.lifespan_context(app.rest),
        httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:9977") as client,
    ):
        remote = await client.get("/healthz")

    assert "db" in local
    assert remote.status_code == 200
    assert remote.json()["status"] == "ok"
    assert "db" not in remote.json() and str(tmp_path) not in remote.text


# --- acknowledged means on disk -----------------------------------------------------------


def test_an_acknowledged_delivery_is_committed_with_synchronous_full(
    receiver: ReceiverFactory, tmp_path: Path
) -> None:
    endpoint = receiver()
    body = sample("alertmanager/firing.json").read_bytes()
    assert endpoint.post("alertmanager", body).status == 202
    assert endpoint.request("GET", "/healthz").json["durability"] == "full"

    # The commit the writer acknowledges runs at FULL, and its connection goes back to NORMAL
    # for the folds (a fold lost with the OS leaves its deliveries received, folded again).
    store = Store.open(tmp_path / "trace.db", FixedClock(STORY_TIME))
    try:
        ingestor = Ingestor(store, Settings(db=tmp_path / "trace.db"))
        headers = {"content-type": "application/json"}
        prepared = ingestor.prepare("alertmanager", body, headers, from_http=True)
        statements: list[str] = []
        store.conn.set_trace_callback(statements.append)
        ingestor.receive_many([prepared], durable=True)
        store.conn.set_trace_callback(None)
    finally:
        store.close()
    levels = [s for s in statements if s.startswith(("PRAGMA synchronous", "BEGIN", "COMMIT"))]
    assert levels == [
        "PRAGMA synchronous",
        "PRAGMA synchronous = FULL",
        "BEGIN IMMEDIATE",
        "COMMIT",
        "PRAGMA synchronous = 1",
    ]


@pytest.mark.parametrize(("level", "number"), [("FULL", 2), ("NORMAL", 1)])
def test_a_durable_write_leaves_the_connection_at_its_own_level(
    tmp_path: Path, level: str, number: int
) -> None:
    conn = connect(tmp_path / "levels.db")
    conn.execute(f"PRAGMA synchronous = {level}")
    try:
        with write_transaction(conn, durable=True):
            assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2
        assert conn.execute("PRAGMA synchronous").fetchone()[0] == number
    finally:
        conn.close()
