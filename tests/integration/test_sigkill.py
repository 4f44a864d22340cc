"""SIGKILL ``serve`` in the middle of a burst: every delivery answered 2xx must survive.

A 202 is a promise to the sender that it need not retry, so a crash right after it must not
lose the delivery, and the file must stay sound for the restarted server.
"""

from __future__ import annotations

import http.client
import random
import sqlite3
import threading
import time
from contextlib import closing
from pathlib import Path

import pytest

from tests.integration.conftest import Endpoint, ServeFactory, ServeProcess
from tests.integration.faults_common import pagerduty_event
from tests.support.receiver_http import LOOPBACK, post_once

SENDERS = 4


class Burst:
    """Distinct PagerDuty deliveries from several keep-alive connections until the server dies."""

    def __init__(self, endpoint: Endpoint, prefix: str) -> None:
        self.endpoint = endpoint
        self.prefix = prefix
        self.acked: set[str] = set()
        self.unexpected: list[int] = []
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._send, args=(n,)) for n in range(SENDERS)]

    def __enter__(self) -> Burst:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self._threads:
            thread.join(30)

    def _send(self, sender: int) -> None:
        port = self.endpoint.port
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=10)
        try:
            for n in range(100_000):
                webhook_id = f"{self.prefix}-{sender}-{n}"
                headers = {"Content-Type": "application/json", "X-Webhook-Id": webhook_id}
                body = pagerduty_event(webhook_id)  # its own event: its own delivery
                status, _, conn = post_once(conn, port, "/webhooks/pagerduty", body, headers)
                if not status.isdigit():
                    return  # killed: whatever was in flight got no answer, so no promise
                with self._lock:
                    if status == "202":
                        self.acked.add(webhook_id)
                    else:
                        self.unexpected.append(int(status))
        finally:
            conn.close()

    def wait_for_acks(self, count: int, timeout_s: float = 10) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.acked) < count and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(self.acked) >= count, f"only {len(self.acked)} deliveries acknowledged"


def stored_keys(db: Path, statuses: tuple[str, ...] = ("received", "accepted")) -> set[str]:
    """Keys of the deliveries in ``statuses``: by default all committed ones (received ones are
    acknowledged and folded later, by the next process to start if this one was killed)."""
    with closing(sqlite3.connect(db, timeout=10)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        marks = ", ".join("?" * len(statuses))
        rows = conn.execute(
            f"SELECT delivery_key FROM deliveries WHERE status IN ({marks})", statuses
        )
        return {str(key).removeprefix("pagerduty:event:") for (key,) in rows}


def crash_and_restart(serve_process: ServeFactory, db: Path, iterations: int) -> None:
    seed = random.randrange(2**32)
    rng = random.Random(seed)
    server: ServeProcess = serve_process(db)
    everything: set[str] = set()
    for iteration in range(iterations):
        with Burst(server.endpoint, f"kill{iteration}") as burst:
            burst.wait_for_acks(5)
            time.sleep(rng.uniform(0, 0.3))
            server.kill()
        everything |= burst.acked
        assert not burst.unexpected, f"seed {seed}: non-202 answers {burst.unexpected[:5]}"

        missing = everything - stored_keys(db)
        assert not missing, f"seed {seed}, iteration {iteration}: acknowledged but lost {missing}"

        server = serve_process(db)
        # What the kill left received but not folded, the new process folds.
        server.endpoint.folded()
        assert everything <= stored_keys(db, ("accepted",)), f"seed {seed}: not folded"
        first = min(burst.acked)
        retry = server.endpoint.post("pagerduty", pagerduty_event(first), {"X-Webhook-Id": first})
        assert (retry.status, retry.json["status"]) == (202, "duplicate")
    assert server.terminate() == 0


def test_acknowledged_deliveries_survive_sigkill(
    serve_process: ServeFactory, tmp_path: Path
) -> None:
    crash_and_restart(serve_process, tmp_path / "crash.db", iterations=4)


@pytest.mark.slow
def test_acknowledged_deliveries_survive_many_sigkills(
    serve_process: ServeFactory, tmp_path: Path
) -> None:
    crash_and_restart(serve_process, tmp_path / "crash.db", iterations=40)
