"""The load generator, run as its own process: ``python -m tests.benchmarks._loadgen SPEC``.

Threads of keep-alive ``http.client`` connections to 127.0.0.1 only (the paced sender of
``tests.support.sender``). The requests are built and signed before the clock starts, so
signing costs the measurement nothing. Bounded: ``count`` requests (plus ``warmup``) and a
hard deadline, after which it stops and reports what it got.
"""

from __future__ import annotations

import json
import sys
from typing import Any

from tests.benchmarks._common import LOADGEN_TIMEOUT_S, MAKERS
from tests.support.sender import send_paced

DEADLINE_S = LOADGEN_TIMEOUT_S - 20


def _send_all(
    port: int,
    requests: list[tuple[bytes, dict[str, str]]],
    source: str,
    threads: int,
    rate: float | None,
) -> dict[str, Any]:
    run = send_paced(
        port,
        lambda n: (source, *requests[n]),
        len(requests),
        threads=threads,
        deadline_s=DEADLINE_S,
        rate=rate,
    )
    answered = [a for a in run.answers if a is not None]
    statuses: dict[str, int] = {}
    for answer in answered:
        statuses[answer.status] = statuses.get(answer.status, 0) + 1
    # Unpaced, the run starts with the first send; paced, when slot 0 was due.
    first = (
        run.started_at
        if rate is not None
        else min((a.sent_at for a in answered), default=run.started_at)
    )
    return {
        "sent": len(answered),
        "statuses": statuses,
        "elapsed_s": (max(a.answered_at for a in answered) - first) if answered else 0.0,
        "latencies_s": [a.latency_s for a in answered],
        "done_at": [float("nan") if a is None else a.answered_at for a in run.answers],
        "started_at": first,
    }


def main(spec_text: str) -> None:
    spec = json.loads(spec_text)
    make = MAKERS[spec["source"]]
    run = spec["run"]
    first = int(spec.get("first_index", 0))
    warmup = [make(first + i, f"{run}w") for i in range(int(spec.get("warmup", 0)))]
    requests = [make(first + i, run) for i in range(int(spec["count"]))]
    if warmup:
        _send_all(spec["port"], warmup, spec["source"], spec["threads"], None)
    report = _send_all(spec["port"], requests, spec["source"], spec["threads"], spec.get("rate"))
    json.dump(report, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
