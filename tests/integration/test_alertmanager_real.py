"""A real Prometheus Alertmanager delivering to our receiver: firing, then resolved.

This is the sender whose behaviour matters most (it drops a notification on any 4xx, retries
5xx), so its real webhook client, bearer credentials included, talks to our real server.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from oncall_tui.core.clock import SystemClock
from tests.integration.conftest import Endpoint, ReceiverFactory
from tests.support.receiver_http import request

pytestmark = pytest.mark.alertmanager

BINARY = "prometheus-alertmanager"
TOKEN = "am-t0ken"
WAIT_S = 30


def alertmanager_binary() -> str:
    found = shutil.which(BINARY) or shutil.which(f"/usr/bin/{BINARY}")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(f"{BINARY} is not installed: .ci/run must install prometheus-alertmanager")
        pytest.skip(f"{BINARY} is not installed (apt-get install prometheus-alertmanager)")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def config(receiver_port: int) -> str:
    return f"""
route:
  receiver: oncall
  group_by: [alertname, service]
  group_wait: 1s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: oncall
    webhook_configs:
      - url: http://127.0.0.1:{receiver_port}/webhooks/alertmanager
        send_resolved: true
        http_config:
          authorization:
            type: Bearer
            credentials: {TOKEN}
"""


def am_request(port: int, method: str, path: str, body: object = None) -> int:
    payload = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return request(port, method, path, payload, headers, timeout_s=5).status


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[Callable[[int], int]]:
    """``start(receiver_port) -> alertmanager_port``, with clustering off and state in tmp."""
    binary = alertmanager_binary()
    processes: list[subprocess.Popen[bytes]] = []

    def start(receiver_port: int) -> int:
        config_file = tmp_path / "alertmanager.yml"
        config_file.write_text(config(receiver_port))
        port = free_port()
        log = (tmp_path / "alertmanager.log").open("wb")
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.path={tmp_path / 'am-data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--cluster.listen-address=",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        processes.append(process)
        wait_for(lambda: _ready(port), f"Alertmanager ready on {port}", tmp_path)
        return port

    yield start
    for process in processes:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def _ready(port: int) -> bool:
    try:
        return am_request(port, "GET", "/-/ready") == 200
    except OSError:
        return False


def wait_for(condition: Callable[[], bool], what: str, logs: Path) -> None:
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    log = logs / "alertmanager.log"
    pytest.fail(f"timed out after {WAIT_S} s waiting for {what}; {log.read_text()[-2000:]}")


def incident_states(endpoint: Endpoint) -> list[tuple[str, str]]:
    rows = endpoint.rows("SELECT service, state FROM incidents")
    return [(str(service), str(state)) for service, state in rows]


def test_real_alertmanager_opens_then_resolves_an_incident(
    receiver: ReceiverFactory, alertmanager: Callable[[int], int], tmp_path: Path
) -> None:
    endpoint = receiver(sources={"alertmanager": {"token": TOKEN}}, clock=SystemClock())
    am_port = alertmanager(endpoint.port)
    starts = datetime.now(UTC) - timedelta(seconds=5)
    alert = {
        "labels": {
            "alertname": "PaymentProcessorErrors",
            "service": "payment-processor",
            "severity": "critical",
        },
        "annotations": {"summary": "payment-processor 5xx above 5%"},
        "startsAt": starts.isoformat(),
        "generatorURL": "http://prometheus.example/graph",
    }

    assert am_request(am_port, "POST", "/api/v2/alerts", [alert]) == 200
    wait_for(
        lambda: ("payment-processor", "triggered") in incident_states(endpoint),
        "an active payment-processor incident",
        tmp_path,
    )

    ended = {**alert, "endsAt": (datetime.now(UTC) - timedelta(seconds=1)).isoformat()}
    assert am_request(am_port, "POST", "/api/v2/alerts", [ended]) == 200
    wait_for(
        lambda: incident_states(endpoint) == [("payment-processor", "resolved")],
        "the payment-processor incident to resolve",
        tmp_path,
    )

    deliveries = endpoint.rows("SELECT status, http_status, headers FROM deliveries")
    assert {(status, code) for status, code, _ in deliveries} == {("accepted", 202)}
    assert all(
        "alertmanager" in json.loads(headers)["user-agent"].lower() for *_, headers in deliveries
    )
