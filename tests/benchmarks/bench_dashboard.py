"""The dashboard: time to the first useful screen on a big DB, and key-to-repaint under load.

* First screen: 10,000 incidents, 1,000 sessions and 1,000,000 journal rows, and 100,000
  incidents, 1,000 sessions and 10,000,000 journal rows (target <= 1.5 s each), beside the same
  app on an empty DB, measured in the same run; and the 100,000 figure over the 10,000 one
  (target <= 2x: the first screen reads a page, so ten times the history must not cost ten
  times the wait). Each is measured in a fresh process
  (``python -m tests.benchmarks.bench_dashboard first-screen ...``), from constructing
  ``OncallApp`` to the main screen showing its first snapshot, painted; imports excluded.
  Quick mode: 1,000 / 50,000 and 10,000 / 500,000.
* Key to repaint: ``down``/``up`` on the incidents table, from the key press to the first
  screen update that shows the cursor moved (observed by wrapping ``App._display``, which the
  compositor calls with every rendered update), p95 while another process ingests 500 events/s
  (50 Alertmanager deliveries/s of 10 alerts each, the receiver's own Ingestor) beside the same
  without load. Target p95 ≤ 100 ms.

The big DBs are built directly (bulk SQL in large transactions, about 75 s for 10,000,000 journal
rows): the projection would be derived from the journal, but for the dashboard it is enough that
both have the sizes and that what the first screen reads (incidents, the signals of active
incidents, sessions, pending pushes) is consistent.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.benchmarks._common import (
    Result,
    alertmanager_alert,
    alertmanager_group,
    percentile,
    workdir,
)
from tests.support.samples import REPO

TARGET_FIRST_SCREEN_S = 1.5
TARGET_REPAINT_P95_MS = 100.0
TARGET_SCALE_RATIO = 2.0
LOAD_EVENTS_S = 500
ALERTS_PER_DELIVERY = 10
SIZE = (160, 48)
CHILD_TIMEOUT_S = 300
REPAINT_TIMEOUT_S = 3.0
SERVICES = ("payment-processor", "payments-api", "ledger", "checkout", "notifications", "search")


def _settings(db: Path, tmp: Path) -> Any:
    from oncall_tui.config import ExportSettings, Settings

    return Settings(db=db, export=ExportSettings(dir=tmp / "context"))


def build_db(db: Path, *, incidents: int, sessions: int, journal: int, now: datetime) -> None:
    """A DB of the given sizes, in a few large transactions (seconds, not the hours of replay).

    Half the incidents are active, each with 10 signals in the last hour (the sparklines read
    them); every session is open; 2,000 pushes wait for approval. Rows are inserted with
    ``executemany`` in the shapes :class:`SqlTables` writes; the bodies of signals and journal
    rows repeat a template (their contents are not what the dashboard scales with).
    """
    from oncall_tui.core.agents import AgentKind, AgentSession, Push, PushKind
    from oncall_tui.core.clock import iso
    from oncall_tui.core.models import (
        Incident,
        IncidentState,
        Severity,
        Signal,
        SignalKind,
        SignalStatus,
        StoredSignal,
    )
    from oncall_tui.store.journal import Store
    from oncall_tui.store.projection_rows import incident_row
    from oncall_tui.store.tables import SqlTables

    Store.open(db).close()  # schema
    severities = list(Severity)
    template = StoredSignal(
        id=0,
        incident_id="INC-0",
        signal=Signal(
            source="alertmanager",
            kind=SignalKind.ALERT,
            service="svc",
            severity=Severity.CRITICAL,
            status=SignalStatus.FIRING,
            title="title",
            occurred_at=now,
            received_at=now,
            delivery_key="bench:0",
            alert_key="am:0",
        ),
    ).model_dump(mode="json")
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")  # building a fixture, not storing telemetry
        conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: index pages stay in memory
        tables = SqlTables(conn)
        conn.execute("BEGIN")
        incident_rows = []
        signal_rows = []
        for n in range(1, incidents + 1):
            service = SERVICES[n % len(SERVICES)]
            opened = now - timedelta(minutes=n % 600, seconds=n)
            active = n % 2 == 0
            incident = Incident(
                id=f"INC-{n}",
                number=n,
                title=f"{service}: 5xx ratio above 5% on prod (storm {n})",
                service=service,
                services=[service],
                severity=severities[n % len(severities)],
                state=IncidentState.TRIGGERED if active else IncidentState.RESOLVED,
                opened_at=opened,
                updated_at=opened,
                resolved_at=None if active else opened + timedelta(minutes=5),
                sources=["alertmanager"],
                signal_count=10,
                last_signal_at=opened,
            )
            incident_rows.append(incident_row(incident))
            if not active:
                continue  # a resolved incident's signals are not on the first screen
            for k in range(10):
                seq = (n - 1) * 10 + k + 1
                occurred = iso(now - timedelta(seconds=(seq * 7) % 3600))
                signal = template["signal"] | {
                    "service": service,
                    "severity": incident.severity.value,
                    "title": incident.title,
                    "occurred_at": occurred,
                    "received_at": occurred,
                    "delivery_key": f"bench:{seq}",
                    "alert_key": f"am:{seq}",
                }
                data = json.dumps(
                    template | {"id": seq, "incident_id": incident.id, "signal": signal}
                )
                signal_rows.append(
                    (
                        seq,
                        incident.id,
                        "alertmanager",
                        "alert",
                        service,
                        "firing",
                        f"am:{seq}",
                        occurred,
                        None,
                        data,
                    )
                )
        conn.executemany(
            "INSERT INTO incidents (id, number, state, severity_rank, service, opened_at,"
            " signal_started_at, updated_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            incident_rows,
        )
        conn.executemany(
            "INSERT INTO signals (id, incident_id, source, kind, service, status, alert_key,"
            " occurred_at, delivery_id, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            signal_rows,
        )
        for n in range(sessions):
            seen = now - timedelta(seconds=n)
            tables.put_session(
                AgentSession(
                    id=f"bench-{n:04d}",
                    agent=AgentKind.CLAUDE_CODE,
                    repo="acme-payments/payments-api",
                    cwd=f"/home/dev/src/payments-api-{n}",
                    branch=f"feature/{n}",
                    task="bench session",
                    paths=[f"services/processor/file_{n}.py"],
                    first_seen=seen,
                    last_seen=seen,
                )
            )
        for n in range(1, 2001):
            tables.put_push(
                Push(
                    id=f"P-{n}",
                    number=n,
                    incident_id=f"INC-{2 * (n % (incidents // 2) + 1)}",
                    session_id=f"bench-{n % sessions:04d}",
                    kind=PushKind.UPDATE,
                    trigger="opened",
                    reason="edits services/processor/capture.py → payment-processor",
                    services=["payment-processor"],
                    guidance="Do not deploy payment-processor changes until the incident ends.",
                    proposed_at=now - timedelta(seconds=n),
                )
            )
        conn.execute("COMMIT")
        body = json.dumps({"incident_id": "INC-1", "signal_id": 1, "at": iso(now)})
        stamp = iso(now)
        batch = 1_000_000
        for start in range(0, journal, batch):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO journal (ts, actor, kind, body) VALUES (?, 'engine', ?, ?)",
                (
                    (stamp, "incident.signal_attached" if i % 3 else "signal.recorded", body)
                    for i in range(start, min(journal, start + batch))
                ),
            )
            conn.execute("COMMIT")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


# --- measured in child processes ---------------------------------------------------------


def _options(tmp: Path, poll_interval_s: float) -> Any:
    from oncall_tui.tui.app import AppOptions

    return AppOptions(
        poll_interval_s=poll_interval_s, user_themes=False, theme_state=tmp / "ui.toml"
    )


async def _wait_first_screen(app: Any, timeout_s: float = 60.0) -> None:
    """Until the main screen has shown its first snapshot (the pane subtitle says "N of M")."""
    from oncall_tui.tui.screens.main import MainScreen

    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        screen = app.screen
        if isinstance(screen, MainScreen) and screen.is_mounted:
            pane = screen.query_one("#incidents-pane")
            if pane.border_subtitle:
                return
        await asyncio.sleep(0.002)
    raise TimeoutError("the main screen never showed a snapshot")


async def _first_screen(db: Path, tmp: Path) -> dict[str, Any]:
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.tui.app import OncallApp

    settings = _settings(db, tmp)
    started = time.perf_counter()
    app = OncallApp(settings, clock=SystemClock(), options=_options(tmp, 0))
    async with app.run_test(size=SIZE) as pilot:
        await _wait_first_screen(app)
        await pilot.pause()  # the paint of that snapshot
        took = time.perf_counter() - started
        subtitle = str(app.screen.query_one("#incidents-pane").border_subtitle)
    return {"first_screen_s": took, "shown": subtitle}


def _writer(db: Path, tmp: Path, seconds: float) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.benchmarks.bench_dashboard",
            "writer",
            str(db),
            str(tmp),
            str(seconds),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
    )


def _write_load(db: Path, tmp: Path, seconds: float) -> dict[str, Any]:
    """500 events/s for ``seconds``: Alertmanager groups of 10 alerts through the Ingestor."""
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.ingest.record import Ingestor
    from oncall_tui.store.journal import Store

    store = Store.open(db, SystemClock())
    ingestor = Ingestor(store, _settings(db, tmp))
    per_s = LOAD_EVENTS_S / ALERTS_PER_DELIVERY
    total = int(seconds * per_s)
    started = time.monotonic()
    sent = 0
    for n in range(total):
        delay = started + n / per_s - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        alerts = [
            alertmanager_alert(n * ALERTS_PER_DELIVERY + k, "load", SERVICES[k % len(SERVICES)])
            for k in range(ALERTS_PER_DELIVERY)
        ]
        ingestor.ingest("alertmanager", alertmanager_group(alerts, f"load-{n}"), {})
        sent += ALERTS_PER_DELIVERY
        if time.monotonic() - started > seconds * 2:
            break
    store.close()
    return {"events": sent, "elapsed_s": time.monotonic() - started}


async def _repaint(db: Path, tmp: Path, presses: int, load: bool) -> dict[str, Any]:
    from oncall_tui.core.clock import SystemClock
    from oncall_tui.tui.app import OncallApp
    from oncall_tui.tui.widgets.incident_table import IncidentTable

    settings = _settings(db, tmp)
    app = OncallApp(settings, clock=SystemClock(), options=_options(tmp, 0.5))
    rng = random.Random(7)
    latencies: list[float] = []
    timeouts = 0
    writer = None
    async with app.run_test(size=SIZE) as pilot:
        await _wait_first_screen(app)
        await pilot.pause(0.3)
        table = app.screen.query_one(IncidentTable)
        table.focus()
        shown: list[tuple[float, int]] = []
        display = app._display

        def spy(screen: Any, renderable: Any) -> None:
            display(screen, renderable)
            if renderable is not None:
                shown.append((time.perf_counter(), table.cursor_row))

        app._display = spy  # type: ignore[method-assign]
        if load:
            writer = _writer(db, tmp, presses * 0.08 + 5)
            await asyncio.sleep(1.0)  # the load is running before the first press
        for k in range(presses):
            before = table.cursor_row
            key = "down" if (k // 10) % 2 == 0 else "up"
            mark = len(shown)
            pressed = time.perf_counter()
            await pilot.press(key)
            deadline = pressed + REPAINT_TIMEOUT_S
            found = None
            while found is None and time.perf_counter() < deadline:
                found = next((t for t, row in shown[mark:] if row != before), None)
                if found is None:
                    await asyncio.sleep(0.001)
            if found is None:
                timeouts += 1  # counted at the cap: a press that never repaints is no outlier
                latencies.append(REPAINT_TIMEOUT_S)
            else:
                latencies.append(found - pressed)
            await asyncio.sleep(rng.uniform(0.02, 0.06))
    load_report: dict[str, Any] = {}
    if writer is not None:
        out, _ = writer.communicate(timeout=CHILD_TIMEOUT_S)
        load_report = json.loads(out or b"{}")
    return {"latencies_s": latencies, "timeouts": timeouts, "load": load_report}


def _child(*args: str) -> dict[str, Any]:
    proc = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks.bench_dashboard", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dashboard child {args[0]} failed: {proc.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def _db_mb(db: Path) -> float:
    wal = Path(f"{db}-wal")
    return (db.stat().st_size + (wal.stat().st_size if wal.exists() else 0)) / 1e6


def _first_screen_row(
    sizes: tuple[int, int, int], shown: dict[str, Any], empty: dict[str, Any], note: str
) -> Result:
    incidents, sessions, journal = sizes
    return Result(
        f"dashboard: first screen, {incidents:,} incidents / {sessions:,} sessions / "
        f"{journal:,} journal rows",
        shown["first_screen_s"],
        "s",
        baseline=empty["first_screen_s"],
        baseline_label="same app, empty DB",
        target=TARGET_FIRST_SCREEN_S,
        direction="max",
        notes=f"incidents pane shows {shown['shown']}; {note}",
    )


def run(quick: bool = False) -> list[Result]:
    from oncall_tui.store.journal import Store

    # (incidents, sessions, journal rows): the small DB, and the one ten times its size.
    small, large = (
        ((1000, 100, 50_000), (10_000, 100, 500_000))
        if quick
        else ((10_000, 1000, 1_000_000), (100_000, 1000, 10_000_000))
    )
    presses = 40 if quick else 100
    now = datetime.now(UTC)
    shown: dict[tuple[int, int, int], dict[str, Any]] = {}
    notes: dict[tuple[int, int, int], str] = {}
    with workdir("dashboard") as tmp:
        empty = tmp / "empty.db"
        Store.open(empty).close()
        _child("first-screen", str(empty), str(tmp))  # warms the OS page cache for imports
        cold_empty = _child("first-screen", str(empty), str(tmp))
        for sizes in (small, large):
            db = tmp / f"db-{sizes[0]}.db"
            built = time.perf_counter()
            build_db(db, incidents=sizes[0], sessions=sizes[1], journal=sizes[2], now=now)
            notes[sizes] = f"DB {_db_mb(db):.0f} MB built in {time.perf_counter() - built:.0f} s"
            _child("first-screen", str(db), str(tmp))  # as for the empty DB: its pages cached
            shown[sizes] = _child("first-screen", str(db), str(tmp))
            if sizes == small:
                quiet = _child("repaint", str(db), str(tmp), str(presses), "0")
                loaded = _child("repaint", str(db), str(tmp), str(presses), "1")
            db.unlink()  # the large DB needs the disk, not the small one
            for suffix in ("-wal", "-shm"):
                Path(f"{db}{suffix}").unlink(missing_ok=True)
    load = loaded["load"]
    achieved = load.get("events", 0) / load["elapsed_s"] if load.get("elapsed_s") else 0.0
    ratio = shown[large]["first_screen_s"] / shown[small]["first_screen_s"]
    return [
        _first_screen_row(small, shown[small], cold_empty, notes[small]),
        _first_screen_row(large, shown[large], cold_empty, notes[large]),
        Result(
            f"dashboard: first screen at {large[0]:,} incidents, against {small[0]:,}",
            shown[large]["first_screen_s"],
            "s",
            baseline=shown[small]["first_screen_s"],
            baseline_label=f"same app, {small[0]:,} incidents",
            # The target is on the ratio (the table's ratio column), not on the seconds.
            passed=ratio <= TARGET_SCALE_RATIO,
            notes=f"target ratio <= {TARGET_SCALE_RATIO:g}x: ten times the incidents and journal"
            f" rows, {ratio:.2f}x the wait",
        ),
        Result(
            "dashboard: key → repaint p95 under 500 events/s",
            percentile(loaded["latencies_s"], 95) * 1000,
            "ms",
            baseline=percentile(quiet["latencies_s"], 95) * 1000,
            baseline_label="same presses, no load",
            target=TARGET_REPAINT_P95_MS,
            direction="max",
            # Only a pass when the load was really there: one Ingestor process cannot always
            # keep up 500 events/s on 2 shared cores, and a lighter load proves nothing.
            passed=bool(
                percentile(loaded["latencies_s"], 95) * 1000 <= TARGET_REPAINT_P95_MS
                and achieved >= 0.9 * LOAD_EVENTS_S
            ),
            notes=f"{presses} presses on the {small[0]:,}-incident DB; p50 "
            f"{percentile(loaded['latencies_s'], 50) * 1000:.0f} ms "
            f"(quiet {percentile(quiet['latencies_s'], 50) * 1000:.0f} ms); load {achieved:.0f} "
            f"events/s achieved; {loaded['timeouts']} presses not repainted within "
            f"{REPAINT_TIMEOUT_S:g} s (counted as {REPAINT_TIMEOUT_S:g} s)",
        ),
    ]


@pytest.mark.benchmark
def test_dashboard_meets_targets() -> None:
    results = run(quick=False)
    assert all(r.passed for r in results), [r.as_json() for r in results]


def _main(argv: list[str]) -> None:
    command, *args = argv
    if command == "first-screen":
        out = asyncio.run(_first_screen(Path(args[0]), Path(args[1])))
    elif command == "repaint":
        out = asyncio.run(_repaint(Path(args[0]), Path(args[1]), int(args[2]), args[3] == "1"))
    elif command == "writer":
        out = _write_load(Path(args[0]), Path(args[1]), float(args[2]))
    else:
        raise SystemExit(f"unknown command {command}")
    os.write(1, (json.dumps(out) + "\n").encode())


if __name__ == "__main__":
    _main(sys.argv[1:])
