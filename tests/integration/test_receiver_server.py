"""The receiver as a server: body limits and stalled senders at the socket, health, binding,
and the ``serve`` process's lifecycle.
"""

from __future__ import annotations

import select
import signal
import socket
import time
from pathlib import Path

import anyio.to_thread
import pytest

from oncall_tui.config import Settings
from oncall_tui.core.clock import SystemClock
from oncall_tui.server.app import create_app
from oncall_tui.server.runner import BindRefusedError, ReceiverThread, check_bind, run_server
from tests.integration.conftest import ReceiverFactory, ServeFactory
from tests.support.samples import sample

# --- body limits and stalled senders, at the socket ------------------------------------------

HEAD = (
    "POST /webhooks/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
)


def read_until_closed(sock: socket.socket) -> bytes:
    data = b""
    while chunk := sock.recv(65536):
        data += chunk
    return data


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


@pytest.mark.parametrize("expect", ["", "Expect: 100-continue\r\n"])
def test_oversized_content_length_is_413_before_the_body(
    receiver: ReceiverFactory, expect: str
) -> None:
    endpoint = receiver(max_body_bytes=4096)
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(f"{HEAD}Content-Length: 10000000\r\n{expect}\r\n".encode())
        response = read_until_closed(sock)  # the server closes: it will not read the body
    assert status_of(response) == 413
    assert b"100 Continue" not in response
    assert b"connection: close" in response.lower()
    assert endpoint.rows("SELECT count(*) FROM deliveries") == [(0,)]


def test_chunked_body_over_the_limit_is_413(receiver: ReceiverFactory) -> None:
    endpoint = receiver(max_body_bytes=4096)
    chunk = b"3e8\r\n" + b"x" * 1000 + b"\r\n"
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=5) as sock:
        sock.sendall(f"{HEAD}Transfer-Encoding: chunked\r\n\r\n".encode())
        for _ in range(5):  # 5000 bytes, no final chunk: the limit, not the end, must stop it
            sock.sendall(chunk)
        response = read_until_closed(sock)
    assert status_of(response) == 413
    assert endpoint.rows("SELECT count(*) FROM deliveries") == [(0,)]


def test_a_stalled_body_times_out_without_blocking_others(receiver: ReceiverFactory) -> None:
    endpoint = receiver(read_timeout_s=1.0)
    body = sample("alertmanager/firing.json").read_bytes()
    with socket.create_connection(("127.0.0.1", endpoint.port), timeout=10) as stalled:
        # Content-Length promises more than is ever sent: a sender that stops mid-body.
        stalled.sendall(f"{HEAD}Content-Length: {len(body)}\r\n\r\n".encode() + body[:100])
        started = time.monotonic()
        other = endpoint.post("alertmanager", body)
        still_waiting = not select.select([stalled], [], [], 0)[0]
        response = read_until_closed(stalled)
        waited = time.monotonic() - started
    assert other.status == 202
    assert still_waiting, "the stalled request was answered before the timeout"
    assert status_of(response) == 408
    assert 0.9 <= waited < 5
    assert [row[1] for row in endpoint.deliveries()] == ["accepted"]


# --- health, binding, process lifecycle ----------------------------------------------------


def test_healthz_reports_the_journal_and_503_when_the_db_is_unreadable(
    receiver: ReceiverFactory,
) -> None:
    endpoint = receiver()
    assert (
        endpoint.post("alertmanager", sample("alertmanager/firing.json").read_bytes()).status == 202
    )
    endpoint.folded()
    healthy = endpoint.request("GET", "/healthz")
    moved = endpoint.db.with_name("moved.db")
    endpoint.db.rename(moved)
    try:
        unreadable = endpoint.request("GET", "/healthz")
    finally:
        moved.rename(endpoint.db)

    [(max_seq,)] = endpoint.rows("SELECT max(seq) FROM journal")
    assert healthy.status == 200
    assert healthy.json == {
        "status": "ok",
        "db": str(endpoint.db),
        "max_seq": max_seq,
        "received": 0,
        "durability": "full",
        "refused_last_minute": {"count": 0, "stored": 0},
        "refused_requests": {"misdirected_host": 0, "browser_origin": 0},
        "agent_errors_24h": 0,
        "last_agent_error_at": None,
    }
    assert max_seq > 0
    assert unreadable.status == 503
    assert unreadable.json["status"] == "unavailable"
    assert endpoint.request("GET", "/healthz").status == 200


def test_non_loopback_bind_is_refused_without_credentials(tmp_path: Path) -> None:
    settings = Settings(db=tmp_path / "never.db", server={"host": "0.0.0.0", "port": 0})
    with pytest.raises(BindRefusedError, match="no source has credentials"):
        run_server(settings, SystemClock())
    with pytest.raises(BindRefusedError):
        ReceiverThread(settings, SystemClock()).start()
    assert not settings.db.exists()
    with_token = Settings(
        db=settings.db, server=settings.server, sources={"alertmanager": {"token": "t0ken"}}
    )
    check_bind(with_token)  # a token on one source is enough


def test_a_busy_port_fails_before_the_db_is_opened(tmp_path: Path) -> None:
    with socket.create_server(("127.0.0.1", 0)) as taken:
        port = taken.getsockname()[1]
        settings = Settings(db=tmp_path / "never.db", server={"port": port})
        with pytest.raises(OSError, match="in use"):
            ReceiverThread(settings, SystemClock()).start()
    assert not settings.db.exists()


async def test_off_loopback_a_source_without_credentials_is_refused(tmp_path: Path) -> None:
    settings = Settings(
        db=tmp_path / "off-loopback.db",
        server={"host": "0.0.0.0", "port": 0},
        sources={"alertmanager": {"token": "t0ken"}},
    )
    body = sample("datadog/triggered.json").read_bytes()
    app = create_app(settings, SystemClock())  # never bound: only its ingest path is exercised
    async with app.rest.router.lifespan_context(app.rest):
        result = await anyio.to_thread.run_sync(app.ingest, "datadog", body, {})
    assert (result.status, result.http_status) == ("rejected", 401)
    assert "loopback only" in result.reason


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_exits_cleanly_on_signal(
    serve_process: ServeFactory, tmp_path: Path, sig: int
) -> None:
    server = serve_process(tmp_path / "serve.db")
    assert server.endpoint.request("GET", "/healthz").status == 200
    assert server.terminate(sig) == 0
    assert "Traceback" not in server.stderr.read_text()
