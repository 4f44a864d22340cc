"""Replay of a 100,000-event incident: how long it takes to open, and what each step costs.

Targets (2 cores): the replay opens (story read from the journal, timeline built, state at the
first event) in at most 1 s, and a step (move plus the state folded to it) costs at most
100 ms. The baseline, measured in the same run, is reading the same journal rows alone (one
``SELECT``, no parsing). Steps are measured once the cursor has warmed (the screen folds ahead in
the background while the lead reads the first events), with the garbage collector as the
cursor leaves it (its long folds keep their state out of the collector's scans:
``KEPT_FOLD_ROWS``); the first cold jump to the end and the warm-up itself are printed for
information, with the collector's share of each.

The incident is an alert storm written straight into the journal as the engine writes it:
signals and their attachments, with pushes, approvals, deliveries, heartbeats, a deploy, a
rollback and the resolution spread along it, after some unrelated history.

Run: ``python -m tests.benchmarks --only replay`` or ``pytest -m benchmark
tests/benchmarks/bench_replay.py -s``.
"""

from __future__ import annotations

import gc
import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks._common import Result, percentile, workdir

TARGET_OPEN_S = 1.0
TARGET_STEP_MS = 100.0
START = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
SESSIONS = ("s-processor", "s-payments", "s-checkout", "s-search")


def _signal(n: int, kind: str, status: str, when: datetime, alert: str) -> dict[str, Any]:
    from oncall_tui.core.models import Link, Signal

    return Signal.model_validate(
        {
            "source": "github" if kind in ("deploy", "rollback") else "alertmanager",
            "kind": kind,
            "service": "payment-processor",
            "environment": "prod",
            "severity": "info" if kind in ("deploy", "rollback") else "critical",
            "status": status,
            "title": f"payment-processor 5xx ratio above 5% (evt-{n:06d})",
            "text": "8.3% of requests returned 5xx over the last 5m (threshold 5%).",
            "labels": {"alertname": "PaymentProcessorHighErrorRate", "pod": f"pod-{n % 200}"},
            "links": [Link(href="https://runbooks.example.com/payments/processor")],
            "occurred_at": when,
            "received_at": when,
            "delivery_key": f"bench-{n}",
            "alert_key": alert,
        }
    ).model_dump(mode="json")


def story_rows(events: int, history: int) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(ts, actor, kind, body) in journal order: ``history`` unrelated rows, then an incident of
    about ``events`` events. Signal ids are the seqs the rows will get (seq = position + 1)."""
    from oncall_tui.core.agents import AgentKind, AgentSession, Push, PushKind
    from oncall_tui.core.clock import iso
    from tests.factories import PAYMENTS_CATALOG

    seq, when = 0, START
    step = timedelta(hours=2) / events

    def row(
        kind: str, body: dict[str, Any], actor: str = "engine"
    ) -> tuple[str, str, str, dict[str, Any]]:
        nonlocal seq, when
        seq += 1
        when += step
        return iso(when), actor, kind, body

    services = {s.name: s.model_dump(mode="json") for s in PAYMENTS_CATALOG}
    yield row("catalog.loaded", {"services": services})
    for sid, (repo, path) in zip(
        SESSIONS,
        [
            ("acme/payments", "services/processor/a.py"),
            ("acme/payments", "services/payments/b.py"),
            ("acme/checkout", "web/c.tsx"),
            ("acme/search", "d.py"),
        ],
        strict=True,
    ):
        session = AgentSession(
            id=sid,
            agent=AgentKind.CLAUDE_CODE,
            repo=repo,
            paths=[path],
            first_seen=when,
            last_seen=when,
        )
        yield row(
            "session.registered", {"session": session.model_dump(mode="json")}, f"agent:{sid}"
        )
    for n in range(history):  # other services' noise, never attached to the incident
        body = _signal(n, "alert", "firing", when, f"other-{n}")
        body["service"] = "search"
        yield row("signal.recorded", {"signal": body}, "source:alertmanager")
    yield row("signal.recorded", {"signal": _signal(0, "deploy", "success", when, "deploy-1")})
    deploy = seq
    yield row("signal.recorded", {"signal": _signal(1, "alert", "firing", when, "a-0")})
    yield row(
        "incident.opened",
        {
            "incident_id": "INC-1",
            "number": 1,
            "title": "storm",
            "service": "payment-processor",
            "severity": "critical",
            "signal_id": seq,
            "at": when.isoformat(),
        },
    )
    yield row("change.linked", {"incident_id": "INC-1", "signal_id": deploy, "relation": "suspect"})
    pushes = []
    for number, sid in enumerate(SESSIONS[:3], 1):
        push = Push(
            id=f"P-{number}",
            number=number,
            incident_id="INC-1",
            session_id=sid,
            kind=PushKind.UPDATE,
            trigger="incident opened",
            services=["payments-api"],
            guidance="Stability mode.",
            proposed_at=when,
        )
        pushes.append(push.id)
        yield row("push.proposed", {"push": push.model_dump(mode="json")})
    n = 2
    while seq < history + events:
        n += 1
        marker = n % 5000
        if marker == 0:
            yield row(
                "push.approved",
                {"push_id": pushes[n // 5000 % 3], "by": "user:alice"},
                "user:alice",
            )
        elif marker == 1:
            sid = SESSIONS[n // 5000 % 3]
            yield row(
                "context.delivered",
                {
                    "session_id": sid,
                    "push_ids": [pushes[n // 5000 % 3]],
                    "channel": "file",
                    "through_seq": 0,
                },
                f"agent:{sid}",
            )
        elif marker in (2, 3, 4):
            sid = SESSIONS[marker - 2]
            yield row("session.seen", {"session_id": sid}, f"agent:{sid}")
        elif n == events // 3:
            yield row(
                "signal.recorded", {"signal": _signal(n, "rollback", "success", when, "rb-1")}
            )
            yield row(
                "change.linked", {"incident_id": "INC-1", "signal_id": seq, "relation": "during"}
            )
        else:
            yield row(
                "signal.recorded",
                {"signal": _signal(n, "alert", "firing", when, f"a-{n % 200}")},
                "source:alertmanager",
            )
            yield row("incident.signal_attached", {"incident_id": "INC-1", "signal_id": seq})
    yield row(
        "incident.state_changed",
        {
            "incident_id": "INC-1",
            "state": "resolved",
            "at": when.isoformat(),
            "reason": "all alerts resolved",
        },
    )


def build_db(path: Path, events: int, history: int) -> int:
    """A DB whose journal holds the story; returns how many journal rows it has."""
    from oncall_tui.core.models import Incident, IncidentState, Severity
    from oncall_tui.store.journal import Store

    store = Store.open(path)
    with store.write() as writer:
        writer.conn.executemany(
            "INSERT INTO journal (ts, actor, kind, body) VALUES (?, ?, ?, ?)",
            (
                (ts, actor, kind, json.dumps(body, separators=(",", ":"), sort_keys=True))
                for ts, actor, kind, body in story_rows(events, history)
            ),
        )
        writer.tables.put_incident(  # the projection row that resolves "INC-1" for the CLI
            Incident(
                id="INC-1",
                number=1,
                title="storm",
                service="payment-processor",
                severity=Severity.CRITICAL,
                state=IncidentState.RESOLVED,
                opened_at=START,
                updated_at=START,
            )
        )
    rows = store.max_seq()
    store.close()
    return rows


def read_rows(path: Path, limit: int = -1, after: int = 0) -> float:
    """The baseline: journal rows fetched (all, or ``limit`` after ``after``), nothing parsed."""
    with closing(sqlite3.connect(path)) as conn:
        started = time.perf_counter()
        conn.execute(
            "SELECT seq, ts, actor, kind, body FROM journal WHERE seq > ? ORDER BY seq LIMIT ?",
            (after, limit),
        ).fetchall()
        return time.perf_counter() - started


@contextmanager
def collector_time() -> Iterator[list[float]]:
    """Seconds the garbage collector ran inside the block (in the list's one item, once over)."""
    spent, started = [0.0], [0.0]

    def note(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            spent[0] += time.perf_counter() - started[0]

    gc.callbacks.append(note)
    try:
        yield spent
    finally:
        gc.callbacks.remove(note)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return (time.perf_counter() - started) * 1000


def open_replay(store: Any) -> tuple[float, Any]:
    """Seconds to open the replay (story read, timeline built, first state), and the cursor."""
    from oncall_tui.store.timeline import StorySource

    started = time.perf_counter()
    cursor = StorySource(store, "INC-1").open()
    cursor.state  # noqa: B018 - the first paint needs the state
    return time.perf_counter() - started, cursor


def run(quick: bool = False) -> list[Result]:
    from oncall_tui.core.replay.cursor import SNAPSHOT_EVERY
    from oncall_tui.store.journal import Store

    events, history = (10_000, 1_000) if quick else (100_000, 10_000)
    with workdir("replay") as tmp:
        db = tmp / "oncall.db"
        rows = build_db(db, events, history)
        baseline = min(read_rows(db) for _ in range(3))
        interval = min(read_rows(db, SNAPSHOT_EVERY, rows // 2) for _ in range(3))
        store = Store.open(db)
        try:
            opens = [open_replay(store) for _ in range(3)]
            opened = min(seconds for seconds, _ in opens)
            cursor = opens[-1][1]
            with collector_time() as cold_collecting:
                cold = timed(lambda: (cursor.jump("resolved"), cursor.state))
            for _, opened_cursor in opens:
                opened_cursor.release()
            cursor = open_replay(store)[1]
            started = time.perf_counter()
            with collector_time() as warm_collecting:
                while not cursor.warm(budget=2000):
                    pass
            warm = time.perf_counter() - started
            with collector_time() as steps_collecting:
                steps = measure_steps(cursor)
            cursor.release()
        finally:
            store.close()
    story = len(cursor.timeline.events)
    slowest = max(steps)
    return [
        Result(
            "replay: open a 100k-event incident" if not quick else "replay: open (quick)",
            opened,
            "s",
            baseline=baseline,
            baseline_label="SELECT of every journal row, unparsed",
            target=TARGET_OPEN_S,
            notes=f"best of 3; {story:,} events of {rows:,} journal rows",
        ),
        Result(
            "replay: step p99 (warm)",
            percentile(steps, 99),
            "ms",
            baseline=interval * 1000,
            baseline_label=f"SELECT of {SNAPSHOT_EVERY} journal rows (one snapshot interval)",
            target=TARGET_STEP_MS,
            notes=f"{len(steps)} steps (event, ±1 min, ±10 min, kind, milestone, named jumps);"
            f" max {slowest:.0f} ms; garbage collector {steps_collecting[0] * 1000:,.0f} ms in all",
            extra={"p50_ms": percentile(steps, 50), "max_ms": slowest},
        ),
        Result(
            "replay: first jump to the end (cold)",
            cold,
            "ms",
            notes=f"before warm-up; garbage collector {cold_collecting[0] * 1000:,.0f} ms",
        ),
        Result(
            "replay: background warm-up",
            warm,
            "s",
            notes=f"folds every row once; garbage collector {warm_collecting[0]:.2f} s",
        ),
    ]


def measure_steps(cursor: Any) -> list[float]:
    """Each move timed with the state folded to where it lands (what a repaint needs)."""
    from oncall_tui.core.timeline.model import NAMED_JUMPS

    def move(action: Callable[[], object]) -> float:
        return timed(lambda: (action(), cursor.state))

    cursor.seek(0)
    samples = [move(cursor.step) for _ in range(50)]
    samples += [move(lambda: cursor.step(-1)) for _ in range(20)]
    for minutes in (1, 10, -1, -10) * 5:
        samples.append(move(lambda m=minutes: cursor.step_time(timedelta(minutes=m))))
    for name in NAMED_JUMPS * 3:
        samples.append(move(lambda n=name: cursor.jump(n)))
    samples += [move(cursor.next_milestone) for _ in range(10)]
    samples += [move(cursor.previous_milestone) for _ in range(10)]
    samples += [move(lambda: cursor.step_kind("push")) for _ in range(5)]
    samples += [
        move(lambda i=i: cursor.seek(i * len(cursor.timeline.events) // 20))
        for i in (19, 3, 11, 0, 15)
    ]
    return samples


@pytest.mark.benchmark
def test_replay_opens_and_steps_within_target() -> None:
    results = run(quick=False)
    for result in results:
        print(
            f"  {result.name:<40} {result.value:10.3f} {result.unit:<3} baseline {result.baseline}"
            f" target {result.target_text} {result.notes}"
        )
    assert all(r.passed for r in results if r.target is not None), [r.as_json() for r in results]
