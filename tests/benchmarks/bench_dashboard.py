"""The dashboard: time to the first useful screen on a big DB, and key-to-repaint under load.

* First screen: 10,000 incidents, 1,000 sessions and 1,000,000 journal rows (target ≤ 1.5 s),
  beside the same app on an empty DB, measured in the same run. Each is measured in a fresh
  process (``python -m tests.benchmarks.bench_dashboard first-screen ...``), from constructing
  ``OncallApp`` to the main screen showing its first snapshot, painted; imports excluded.
* Key to repaint: ``down``/``up`` on the incidents table, from the key press to the first
  screen update that shows the cursor moved (observed by wrapping ``App._display``, which the
  compositor calls with every rendered update), p95 while another process ingests 500 events/s
  (50 Alertmanager deliveries/s of 10 alerts each, the receiver's own Ingestor) beside the same
  without load. Target p95 ≤ 100 ms.

The big DB is built directly (bulk SQL in large transactions): the projection would be derived
from the journal, but for the dashboard it is enough that both have the sizes.
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
    REPO,
    Result,
    alertmanager_alert,
    alertmanager_group,
    percentile,
    workdir,
)

TARGET_FIRST_SCREEN_S = 1.5
TARGET_REPAINT_P95_MS = 100.0
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
    them); every session is open; 2,000 pushes wait for approval.
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
    from oncall_tui.store.tables import SqlTables

    Store.open(db).close()  # schema
    severities = list(Severity)
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = OFF")  # building a fixture, not storing telemetry
        tables = SqlTables(conn)
        conn.execute("BEGIN")
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
            tables.put_incident(incident)
            for k in range(10):
                seq = (n - 1) * 10 + k + 1
                occurred = now - timedelta(seconds=(seq * 7) % 3600)
                signal = Signal(
                    source="alertmanager",
                    kind=SignalKind.ALERT,
                    service=service,
                    severity=incident.severity,
                    status=SignalStatus.FIRING,
                    title=incident.title,
                    occurred_at=occurred,
                    received_at=occurred,
                    delivery_key=f"bench:{seq}",
                    alert_key=f"am:{seq}",
                )
                stored = StoredSignal(id=seq, incident_id=incident.id, signal=signal)
                signal_rows.append(
                    (
                        seq,
                        incident.id,
                        "alertmanager",
                        "alert",
                        service,
                        "firing",
                        signal.alert_key,
                        iso(occurred),
                        None,
                        stored.model_dump_json(),
                    )
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
        batch = 100_000
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


def run(quick: bool = False) -> list[Result]:
    from oncall_tui.store.journal import Store

    incidents, sessions, journal = (1000, 100, 50_000) if quick else (10_000, 1000, 1_000_000)
    presses = 40 if quick else 100
    now = datetime.now(UTC)
    with workdir("dashboard") as tmp:
        empty = tmp / "empty.db"
        Store.open(empty).close()
        big = tmp / "big.db"
        built = time.perf_counter()
        build_db(big, incidents=incidents, sessions=sessions, journal=journal, now=now)
        built_s = time.perf_counter() - built
        size_mb = (
            (big.stat().st_size + Path(f"{big}-wal").stat().st_size) / 1e6
            if Path(f"{big}-wal").exists()
            else big.stat().st_size / 1e6
        )
        _child("first-screen", str(empty), str(tmp))  # warms the OS page cache for imports
        cold_empty = _child("first-screen", str(empty), str(tmp))
        cold_big = _child("first-screen", str(big), str(tmp))
        quiet = _child("repaint", str(big), str(tmp), str(presses), "0")
        loaded = _child("repaint", str(big), str(tmp), str(presses), "1")
    load = loaded["load"]
    achieved = load.get("events", 0) / load["elapsed_s"] if load.get("elapsed_s") else 0.0
    return [
        Result(
            f"dashboard: first screen, {incidents:,} incidents / {sessions:,} sessions / "
            f"{journal:,} journal rows",
            cold_big["first_screen_s"],
            "s",
            baseline=cold_empty["first_screen_s"],
            baseline_label="same app, empty DB",
            target=TARGET_FIRST_SCREEN_S,
            direction="max",
            notes=f"incidents pane shows {cold_big['shown']}; DB {size_mb:.0f} MB built in "
            f"{built_s:.0f} s",
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
            notes=f"{presses} presses; p50 {percentile(loaded['latencies_s'], 50) * 1000:.0f} ms "
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
