"""A reader or a writer that gets stuck in another process, and the receiver beside it.

A stuck reader (``BEGIN; SELECT ...`` never finished) pins its snapshot: in WAL mode the writer
goes on (202s keep coming), but no checkpoint can get past the snapshot, so the WAL only grows.
Once the reader goes, a checkpoint must complete and new writes start over at the head of the
WAL instead of growing it further.

A stuck writer (``BEGIN IMMEDIATE`` held) is different: nobody else can commit, so the receiver
must answer 503 within about its busy timeout, to every sender at once, and take deliveries
again once the holder is gone, whether it rolls back or is killed. ``test_receiver.py`` has
the same-process case with one request (``test_a_locked_store_is_503_...``); here the holder is
another process (POSIX locks, not SQLite's in-process ones), several senders wait on it at once,
and the time they wait is bounded.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path

import pytest

from oncall_tui.store import checkpoint as checkpoints
from oncall_tui.store.db import connect
from tests.integration.conftest import Endpoint, ReceiverFactory
from tests.integration.faults_common import (
    acknowledged_id,
    all_folded,
    integrity,
    pagerduty_event,
    pagerduty_key,
    read_db,
    unstored,
    wait_for,
)
from tests.support.receiver_http import Reply

PINNED_MAX = 1500
"""Deliveries sent while the reader is pinned, at most: they stop once the WAL holds 1.5 times
the auto-checkpoint threshold (about 10 frames each, so usually after 150 or 200)."""

# The other process: one connection, driven line by line over stdin so the test decides
# exactly when its transaction starts and ends.
HOLDER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
for line in sys.stdin:
    command = line.strip()
    if command == "read":
        conn.execute("BEGIN")
        print(conn.execute("SELECT count(*) FROM deliveries").fetchone()[0], flush=True)
    elif command == "count":
        print(conn.execute("SELECT count(*) FROM deliveries").fetchone()[0], flush=True)
    elif command == "write":
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO meta (key, value) VALUES ('stuck-writer', 'x')")
        print("locked", flush=True)
    elif command in ("commit", "rollback"):
        conn.execute(command.upper())
        print("done", flush=True)
"""


class Holder:
    """A ``python -c`` process holding one connection to the DB."""

    def __init__(self, db: Path) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(db)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def ask(self, command: str, timeout_s: float = 20) -> str:
        """Send one command and wait (bounded) for its one-line answer."""
        assert self.process.stdin is not None
        self.process.stdin.write(command + "\n")
        self.process.stdin.flush()
        answer: list[str] = []
        reader = threading.Thread(target=self._read_line, args=(answer,), daemon=True)
        reader.start()
        reader.join(timeout_s)
        assert answer and answer[0], f"the holder did not answer {command!r}"
        return answer[0].strip()

    def _read_line(self, into: list[str]) -> None:
        assert self.process.stdout is not None
        into.append(self.process.stdout.readline())

    def close(self) -> int:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
        code = self.process.wait(20)
        if self.process.stdout is not None:
            self.process.stdout.close()
        return code

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(20)


@pytest.fixture
def holder() -> Iterator[Callable[[Path], Holder]]:
    """Start holders with ``holder(db)``; any still running at the end is killed."""
    started: list[Holder] = []

    def start(db: Path) -> Holder:
        started.append(Holder(db))
        return started[-1]

    yield start
    for process in started:
        if process.process.poll() is None:
            process.kill()


def checkpoint(db: Path, mode: str = "PASSIVE") -> tuple[int, int, int]:
    """(busy, frames in the WAL, frames checkpointed), from a connection of our own."""
    [(busy, log, done)] = read_db(db, f"PRAGMA wal_checkpoint({mode})")
    return busy, log, done


def wal_size(db: Path) -> int:
    wal = db.with_name(db.name + "-wal")
    return wal.stat().st_size if wal.exists() else 0


class Sender:
    """Distinct PagerDuty deliveries; remembers what each 202 promised."""

    def __init__(self, endpoint: Endpoint, prefix: str) -> None:
        self.endpoint = endpoint
        self.prefix = prefix
        self.acked: dict[int, str] = {}
        self._lock = threading.Lock()

    def send(self, n: int) -> tuple[Reply, float]:
        webhook_id = f"{self.prefix}-{n}"
        started = time.monotonic()
        body = pagerduty_event(webhook_id)
        reply = self.endpoint.post("pagerduty", body, {"X-Webhook-Id": webhook_id})
        took = time.monotonic() - started
        if reply.status == 202:
            with self._lock:
                self.acked[acknowledged_id(reply)] = pagerduty_key(webhook_id)
        return reply, took

    def send_concurrently(self, numbers: range) -> list[tuple[Reply, float]]:
        results: list[tuple[Reply, float]] = []
        threads = [
            threading.Thread(target=lambda n=n: results.append(self.send(n))) for n in numbers
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(results) == len(numbers), "a sender never got an answer"
        return results


# --- a stuck reader --------------------------------------------------------------------------


def test_a_stuck_reader_pins_the_wal_without_blocking_deliveries(
    receiver: ReceiverFactory, holder: Callable[[Path], Holder]
) -> None:
    endpoint = receiver()
    sender = Sender(endpoint, "pinned")
    for n in range(5):
        assert sender.send(n)[0].status == 202
    wait_for(lambda: all_folded(endpoint.db, list(sender.acked)), what="the first 5 folded")
    with closing(connect(endpoint.db)) as product:  # what the product's connections use
        autocheckpoint = product.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        size_limit = product.execute("PRAGMA journal_size_limit").fetchone()[0]
        page_size = product.execute("PRAGMA page_size").fetchone()[0]
    assert checkpoint(endpoint.db, "TRUNCATE")[0] == 0
    assert wal_size(endpoint.db) == 0

    reader = holder(endpoint.db)
    seen = int(reader.ask("read"))
    answers: list[tuple[Reply, float]] = []
    while len(answers) < PINNED_MAX and checkpoint(endpoint.db)[1] <= 1.5 * autocheckpoint:
        answers += [sender.send(n) for n in range(5 + len(answers), 55 + len(answers))]
    still_seen = int(reader.ask("count"))
    pinned_busy, pinned_log, pinned_done = checkpoint(endpoint.db)
    pinned_size = wal_size(endpoint.db)

    assert [reply.status for reply, _ in answers] == [202] * len(answers), (
        "a reader must not block the writer in WAL mode"
    )
    assert max(took for _, took in answers) < 5
    assert still_seen == seen, "the reader's snapshot is pinned"
    assert pinned_log > autocheckpoint, "the WAL grew past where auto-checkpoint resets it"
    assert pinned_size >= pinned_log * page_size
    assert pinned_busy == 0 and pinned_done < pinned_log, (
        f"a checkpoint cannot pass the pinned snapshot: {(pinned_busy, pinned_log, pinned_done)}"
    )

    reader.ask("commit")
    assert reader.close() == 0
    wait_for(lambda: all_folded(endpoint.db, list(sender.acked)), what="all deliveries folded")

    def completes() -> tuple[int, int, int] | None:
        result = checkpoint(endpoint.db)
        return result if result[0] == 0 and result[1] == result[2] else None

    complete = wait_for(completes, what="a complete checkpoint once the reader is gone")
    assert complete is not None and complete[1] >= pinned_log
    peak = wal_size(endpoint.db)  # folds went on after the pinned figures: this is the most
    more = [sender.send(n) for n in range(10_000, 10_005)]
    assert [reply.status for reply, _ in more] == [202] * 5
    wait_for(lambda: all_folded(endpoint.db, list(sender.acked)), what="the last 5 folded")
    _, restarted_log, _ = checkpoint(endpoint.db)
    assert restarted_log < complete[1] // 4, "new writes start over at the head of the WAL"
    assert wal_size(endpoint.db) <= peak, "the WAL stopped growing"
    if size_limit >= 0:  # the product caps the WAL it leaves behind once it is reset
        assert wal_size(endpoint.db) <= max(size_limit, restarted_log * (page_size + 24) + 32)
    assert unstored(endpoint.db, sender.acked) == {}
    assert integrity(endpoint.db) == [("ok",)]


def test_a_stuck_reader_raises_the_wal_alarm_until_it_goes(
    receiver: ReceiverFactory, holder: Callable[[Path], Holder], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkpoints, "PINNED_ALARM_S", 0.5)  # a minute in production
    monkeypatch.setattr(checkpoints, "WAL_RESTART_BYTES", 0)  # 24 MB: restart at every chance
    monkeypatch.setattr(checkpoints, "RESTART_EVERY_S", 0.05)
    endpoint = receiver()
    sender = Sender(endpoint, "alarm")
    for n in range(5):
        assert sender.send(n)[0].status == 202
    wait_for(lambda: all_folded(endpoint.db, list(sender.acked)), what="the first 5 folded")
    assert "wal_alarm" not in endpoint.request("GET", "/healthz").json

    reader = holder(endpoint.db)
    reader.ask("read")

    def alarm() -> str | None:
        sender.send(len(sender.acked))  # the writer checks the WAL after its commits
        return endpoint.request("GET", "/healthz").json.get("wal_alarm")

    raised = wait_for(alarm, what="the WAL alarm while the reader is stuck")
    assert "read transaction open" in str(raised)
    reader.ask("commit")
    assert reader.close() == 0
    wait_for(lambda: alarm() is None, what="the alarm cleared once the reader went")
    assert unstored(endpoint.db, sender.acked) == {}


# --- a stuck writer in another process ---------------------------------------------------------

BUSY_TIMEOUT_MS = 300
SENDERS = 8


@pytest.mark.parametrize("release", ["rollback", "sigkill"])
def test_a_writer_stuck_in_another_process_gets_quick_503s_then_recovery(
    receiver: ReceiverFactory, holder: Callable[[Path], Holder], release: str
) -> None:
    endpoint = receiver(busy_timeout_ms=BUSY_TIMEOUT_MS)
    sender = Sender(endpoint, f"locked-{release}")
    assert sender.send(0)[0].status == 202

    writer = holder(endpoint.db)
    assert writer.ask("write") == "locked"
    refused = sender.send_concurrently(range(1, 1 + SENDERS))
    health = endpoint.request("GET", "/healthz")
    if release == "rollback":
        assert writer.ask("rollback") == "done"
        assert writer.close() == 0
    else:
        writer.kill()  # the OS drops its locks; its uncommitted row must not appear
    retried = sender.send_concurrently(range(1, 1 + SENDERS))

    statuses = sorted(reply.status for reply, _ in refused)
    slowest = max(took for _, took in refused)
    assert statuses == [503] * SENDERS, [reply.body for reply, _ in refused]
    for reply, _ in refused:
        assert int(reply.headers["retry-after"]) > 0
        assert reply.json["delivery_id"] is None
        assert "locked" in reply.json["error"] or "busy" in reply.json["error"], reply.body
    # Each batch waits out one busy timeout; bounded, however the senders queue up.
    assert min(took for _, took in refused) >= BUSY_TIMEOUT_MS / 1000 * 0.8
    assert slowest < 5, f"a sender waited {slowest:.1f} s for its 503"
    assert health.status == 200, "readers are not blocked by a stuck writer"

    assert [reply.status for reply, _ in retried] == [202] * SENDERS
    assert all(reply.json["status"] != "duplicate" for reply, _ in retried), (
        "the refused attempts left nothing behind"
    )
    assert unstored(endpoint.db, sender.acked) == {}
    assert len(sender.acked) == 1 + SENDERS
    assert read_db(endpoint.db, "SELECT count(*) FROM meta WHERE key = 'stuck-writer'") == [(0,)]
    wait_for(lambda: all_folded(endpoint.db, list(sender.acked)), what="all deliveries folded")
    assert integrity(endpoint.db) == [("ok",)]
