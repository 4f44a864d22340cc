"""The paced sender: many deliveries over a few keep-alive connections, every answer kept.

Both the benchmarks' load generator and the storm and soak tests' sender run this loop in a
process of their own (a client sharing the server's GIL would measure the client). Slot ``n``
is due at ``start + n / rate``, or as soon as a connection is free when there is no rate; each worker takes the next
slot, builds its request in slot order (a plan may keep state), waits for its time and sends.
Times are ``time.monotonic()``: system-wide, so they compare with the test process's.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from tests.support.receiver_http import LOOPBACK, post_once

Delivery = tuple[str, bytes, dict[str, str]]
"""``(source, body, headers)``: posted to ``/webhooks/{source}``."""


@dataclass(frozen=True)
class Answer:
    """What one slot got back."""

    status: str
    """HTTP status as text, or the exception's name when no answer came."""
    body: bytes
    due_at: float
    sent_at: float
    answered_at: float

    @property
    def latency_s(self) -> float:
        return self.answered_at - self.sent_at


@dataclass(frozen=True)
class Run:
    started_at: float
    """When slot 0 was due (paced runs; an unpaced one starts with its first send)."""
    answers: list[Answer | None]
    """By slot; ``None`` for a slot the deadline left unsent."""


def send_paced(
    port: int,
    make: Callable[[int], Delivery],
    count: int,
    *,
    threads: int,
    deadline_s: float,
    rate: float | None = None,
    prebuilt: bool = True,
    lead_s: float = 0.05,
) -> Run:
    """Send slots ``0 .. count - 1``; stop taking slots once ``deadline_s`` has passed.

    ``prebuilt`` builds every request before the clock starts, so building (signing) costs the
    measurement nothing; a plan whose bodies carry real timestamps over a long run cannot be.
    ``lead_s`` is the time the workers get to connect before slot 0 is due.
    """
    requests = [make(n) for n in range(count)] if prebuilt else None
    answers: list[Answer | None] = [None] * count
    lock = threading.Lock()
    next_slot = iter(range(count))
    start = time.monotonic() + lead_s
    deadline = start + deadline_s

    def worker() -> None:
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=60)
        try:
            while True:
                with lock:
                    slot = next(next_slot, None)
                    if slot is None or time.monotonic() > deadline:
                        return
                    source, body, headers = make(slot) if requests is None else requests[slot]
                if rate is not None:
                    delay = start + slot / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                sent = time.monotonic()
                due = sent if rate is None else start + slot / rate
                status, answer, conn = post_once(conn, port, f"/webhooks/{source}", body, headers)
                answers[slot] = Answer(status, answer, due, sent, time.monotonic())
        finally:
            conn.close()

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return Run(start, answers)
