"""The load generator, run as its own process: ``python -m tests.benchmarks._loadgen SPEC``.

Threads of keep-alive ``http.client`` connections to 127.0.0.1 only. The requests are built and
signed before the clock starts, so signing costs the measurement nothing. Bounded: ``count``
requests (plus ``warmup``) and a hard deadline, after which it stops and reports what it got.
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from typing import Any

from tests.benchmarks._common import LOADGEN_TIMEOUT_S, LOOPBACK, MAKERS, post_once

DEADLINE_S = LOADGEN_TIMEOUT_S - 20


def _send_all(
    port: int,
    requests: list[tuple[bytes, dict[str, str]]],
    path: str,
    threads: int,
    rate: float | None,
) -> dict[str, Any]:
    count = len(requests)
    latencies = [float("nan")] * count
    done_at = [float("nan")] * count
    statuses: dict[str, int] = {}
    lock = threading.Lock()
    next_index = iter(range(count))
    start = time.monotonic() + 0.05
    deadline = start + DEADLINE_S

    def worker() -> None:
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=60)
        try:
            while True:
                with lock:
                    index = next(next_index, None)
                if index is None or time.monotonic() > deadline:
                    return
                if rate is not None:
                    delay = start + index / rate - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
                body, headers = requests[index]
                sent = time.monotonic()
                status, _, conn = post_once(conn, port, path, body, headers)
                answered = time.monotonic()
                with lock:
                    latencies[index] = answered - sent
                    done_at[index] = answered
                    statuses[status] = statuses.get(status, 0) + 1
        finally:
            conn.close()

    pool = [threading.Thread(target=worker, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    answered_at = [t for t in done_at if t == t]
    first = (
        start
        if rate is not None
        else min(
            (t - lat for t, lat in zip(done_at, latencies, strict=True) if t == t), default=start
        )
    )
    return {
        "sent": len(answered_at),
        "statuses": statuses,
        "elapsed_s": (max(answered_at) - first) if answered_at else 0.0,
        "latencies_s": [x for x in latencies if x == x],
        "done_at": done_at,
        "started_at": first,
    }


def main(spec_text: str) -> None:
    spec = json.loads(spec_text)
    make = MAKERS[spec["source"]]
    run = spec["run"]
    first = int(spec.get("first_index", 0))
    warmup = [make(first + i, f"{run}w") for i in range(int(spec.get("warmup", 0)))]
    requests = [make(first + i, run) for i in range(int(spec["count"]))]
    path = f"/webhooks/{spec['source']}"
    if warmup:
        _send_all(spec["port"], warmup, path, spec["threads"], None)
    report = _send_all(spec["port"], requests, path, spec["threads"], spec.get("rate"))
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
