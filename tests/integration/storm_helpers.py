"""Pieces of the storm and soak tests: ``serve`` as a subprocess, a paced sender, samplers.

The sender runs as its own process (``python -m tests.integration.storm_helpers SPEC``), like
the benchmarks' load generator: a client sharing the test's GIL would measure the client, and
the dashboard under test runs in the test process. It paces deliveries evenly over keep-alive
``http.client`` connections (:func:`tests.support.sender.send_paced`) and reports every
answer, with ``time.monotonic()`` times (the clock is system-wide, so they compare with the
test process's).

Kept free of ``oncall_tui`` imports at module level so the sender starts fast.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import select
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.benchmarks._common import (
    _now_iso,
    alertmanager_alert,
    alertmanager_group,
    pagerduty_variant,
)
from tests.support.environment import is_machine_setting
from tests.support.samples import REPO, SAMPLE_SECRET
from tests.support.sender import Delivery, send_paced

AM_TOKEN = "storm-token"
"""Bearer token the Alertmanager route is configured with (``http_config.authorization``)."""
WAL_LIMIT_BYTES = 64 * 1024 * 1024
"""P6: the WAL file stays under 64 MB, storm or not."""
SENDER_THREADS = 4
STORM_SERVICE = "payment-processor"


# --- serve as a subprocess ---------------------------------------------------------------


def write_config(directory: Path) -> Path:
    """Credentials on the two routes the tests use, so every delivery is really verified."""
    path = directory / "config.toml"
    path.write_text(
        f'[sources.pagerduty]\nsecret = "{SAMPLE_SECRET}"\n'
        f'[sources.alertmanager]\ntoken = "{AM_TOKEN}"\n'
    )
    return path


@dataclass
class Serve:
    process: subprocess.Popen[bytes]
    port: int
    stderr: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    def stderr_tail(self, chars: int = 3000) -> str:
        try:
            return self.stderr.read_text(errors="replace")[-chars:]
        except OSError:
            return ""

    def stop(self) -> int | None:
        """SIGTERM, then SIGKILL if it has not drained within 30 s; the exit code of the first."""
        if self.process.poll() is not None:
            return self.process.returncode
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            return None

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        if self.process.stdout is not None:
            self.process.stdout.close()


def start_serve(db: Path, workdir: Path, *, timeout_s: float = 30) -> Serve:
    """``python -m oncall_tui --config CFG --db DB serve --port 0``; the caller must kill() it."""
    config = write_config(workdir)
    stderr = workdir / "serve.stderr"
    env = {k: v for k, v in os.environ.items() if not is_machine_setting(k)}
    with stderr.open("wb") as err:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "oncall_tui",
                "--config",
                str(config),
                "--db",
                str(db),
                "serve",
                "--port",
                "0",
            ],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=err,
            env=env,
        )
    serve = Serve(process, 0, stderr)
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout_s)
    line = process.stdout.readline().decode() if ready else ""
    if "receiving on http://127.0.0.1:" not in line:
        serve.kill()
        raise RuntimeError(f"serve did not start: {line!r} {serve.stderr_tail()}")
    serve.port = int(line.split("http://127.0.0.1:")[1].split()[0])
    return serve


# --- payloads ------------------------------------------------------------------------------


def am_headers() -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "Alertmanager/0.27.0",
        "Authorization": f"Bearer {AM_TOKEN}",
    }


def fingerprint(run: str, index: int) -> str:
    """What :func:`alertmanager_alert` gives alert ``index`` of ``run``."""
    return hashlib.sha256(f"{run}:{index}".encode()).hexdigest()[:16]


def storm_delivery(run: str, delivery: int, per_delivery: int) -> bytes:
    """One notification of ``per_delivery`` distinct firing alerts of one group."""
    first = delivery * per_delivery
    alerts = [alertmanager_alert(first + k, run, STORM_SERVICE) for k in range(per_delivery)]
    return alertmanager_group(alerts, run)


def pagerduty_lifecycle(
    run: str, cycle: int, service: str, status: str
) -> tuple[bytes, dict[str, str]]:
    """A signed PagerDuty ``incident.triggered`` or ``incident.resolved`` of incident ``cycle``.

    The pair shares the PagerDuty incident id (the alert key), so the resolve closes what the
    trigger opened; event and webhook ids differ, so both are stored.
    """
    name = "triggered" if status == "triggered" else "resolved"
    return pagerduty_variant(
        name,
        event_id=f"01SOAK{run}{name[0]}{cycle:010d}",
        incident_id=f"QS{run}{cycle:010d}",
        number=200_000 + cycle,
        incident_key=f"soak-{run}-{cycle}",
        title=f"{service}: 5xx ratio above 5% (soak cycle {cycle})",
        webhook_id=f"soak-{run}-{name[0]}-{cycle:010d}",
        service=service,
    )


class SoakPlan:
    """Deliveries of incidents that open and close, forever: slot ``n`` is one delivery.

    Cycle ``c`` (slots ``4c`` to ``4c + 3``) fires two Alertmanager alerts and a PagerDuty
    incident on service ``soak-{c % SERVICES}``, then resolves cycle ``c - LAG`` (about a second
    earlier at 50 deliveries/s): its alerts and its PagerDuty incident, which resolves the oncall
    incident (all its alerts resolved). ``SERVICES`` is larger than ``LAG``, so a service's
    incident is closed before its next cycle fires and that cycle opens a new one: incidents
    come and go, none grows forever. The first ``LAG`` cycles have nothing to resolve yet and
    repeat their own notifications instead (Alertmanager's repeat, a PagerDuty retry), which
    the receiver answers 202 "duplicate" and stores once.
    """

    SERVICES = 24
    LAG = 12
    ALERTS = 2

    def __init__(self, run: str) -> None:
        self.run = run
        self._firing: dict[int, list[dict[str, Any]]] = {}
        self._sent: dict[int, list[tuple[str, bytes, dict[str, str]]]] = {}

    def service(self, cycle: int) -> str:
        return f"soak-{cycle % self.SERVICES:02d}"

    def delivery(self, slot: int) -> tuple[str, bytes, dict[str, str]]:
        """Must be called in slot order (the plan remembers what is firing)."""
        cycle, step = divmod(slot, 4)
        if step == 0:
            alerts = [
                alertmanager_alert(cycle * self.ALERTS + k, self.run, self.service(cycle))
                for k in range(self.ALERTS)
            ]
            self._firing[cycle] = alerts
            sent = ("alertmanager", alertmanager_group(alerts, self.run), am_headers())
            if cycle < self.LAG:
                self._sent[cycle] = [sent]
            return sent
        if step == 1:
            body, headers = pagerduty_lifecycle(self.run, cycle, self.service(cycle), "triggered")
            if cycle < self.LAG:
                self._sent[cycle].append(("pagerduty", body, headers))
            return "pagerduty", body, headers
        closing_cycle = cycle - self.LAG
        if closing_cycle < 0:
            return self._sent[cycle][step - 2]
        if step == 2:
            ended = _now_iso()
            resolved = []
            for alert in self._firing.pop(closing_cycle):
                alert = copy.deepcopy(alert)
                alert["status"] = "resolved"
                alert["endsAt"] = ended
                resolved.append(alert)
            group = json.loads(alertmanager_group(resolved, self.run))
            group["status"] = "resolved"
            body = json.dumps(group, separators=(",", ":")).encode()
            return "alertmanager", body, am_headers()
        service = self.service(closing_cycle)
        body, headers = pagerduty_lifecycle(self.run, closing_cycle, service, "resolved")
        return "pagerduty", body, headers


# --- the sender ----------------------------------------------------------------------------


@dataclass
class SendReport:
    """Every answer of a run, by slot; times are ``time.monotonic()``."""

    started_at: float
    elapsed_s: float
    statuses: list[str]
    """HTTP status as text, or the exception's name when no answer came."""
    delivery_ids: list[int | None]
    answered_at: list[float]
    latencies_s: list[float]
    late_s: float
    """How far behind its schedule the latest send started (pacing fell behind by this)."""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def sent(self) -> int:
        return len(self.statuses)

    def count(self, predicate: Callable[[str], bool]) -> int:
        return sum(1 for status in self.statuses if predicate(status))

    @property
    def ok(self) -> int:
        return self.count(lambda s: s.isdigit() and 200 <= int(s) < 300)

    @property
    def server_errors(self) -> int:
        return self.count(lambda s: s.isdigit() and int(s) >= 500)

    def histogram(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for status in self.statuses:
            out[status] = out.get(status, 0) + 1
        return out

    @property
    def last_ok_at(self) -> float:
        return max(
            (t for s, t in zip(self.statuses, self.answered_at, strict=True) if s.startswith("2")),
            default=float("nan"),
        )


def _send_paced(
    port: int,
    make: Callable[[int], Delivery],
    count: int,
    rate: float,
    threads: int,
    deadline_s: float,
    prebuilt: bool,
) -> dict[str, Any]:
    """Slot ``n`` is sent at ``start + n / rate`` (or as soon after as a connection is free)."""
    run = send_paced(
        port,
        make,
        count,
        threads=threads,
        deadline_s=deadline_s,
        rate=rate,
        prebuilt=prebuilt,
        lead_s=0.1,
    )
    answered = [a for a in run.answers if a is not None]
    last = max((a.answered_at for a in answered), default=run.started_at)
    return {
        "started_at": run.started_at,
        "elapsed_s": last - run.started_at,
        "statuses": [a.status for a in answered],
        "delivery_ids": [_delivery_id(a.body) for a in answered],
        "answered_at": [a.answered_at for a in answered],
        "latencies_s": [a.latency_s for a in answered],
        "late_s": max((a.sent_at - a.due_at for a in answered), default=0.0),
    }


def _delivery_id(answer: bytes) -> int | None:
    try:
        delivery_id: int | None = json.loads(answer).get("delivery_id")
    except (ValueError, AttributeError):
        return None
    return delivery_id


def sender_main(spec: dict[str, Any]) -> dict[str, Any]:
    mode = spec["mode"]
    run = spec["run"]
    if mode == "storm":
        per = int(spec["per_delivery"])

        def make(slot: int) -> Delivery:
            return "alertmanager", storm_delivery(run, slot, per), am_headers()

        prebuilt = True
    elif mode == "soak":
        make = SoakPlan(run).delivery
        prebuilt = False  # timestamps must be real time over a long run
    else:
        raise SystemExit(f"unknown mode {mode}")
    return _send_paced(
        spec["port"],
        make,
        int(spec["count"]),
        float(spec["rate"]),
        int(spec.get("threads", SENDER_THREADS)),
        float(spec["deadline_s"]),
        prebuilt,
    )


class Sender:
    """The sender process; :meth:`report` waits for it (bounded) and parses what it saw."""

    def __init__(self, spec: dict[str, Any], workdir: Path, argv: list[str] | None = None) -> None:
        self.spec = spec
        self._out = (workdir / f"sender-{spec['run']}.json").open("w+b")
        self._err = (workdir / f"sender-{spec['run']}.stderr").open("w+b")
        self.process = subprocess.Popen(
            argv or [sys.executable, "-m", "tests.integration.storm_helpers", json.dumps(spec)],
            cwd=REPO,
            stdout=self._out,
            stderr=self._err,
        )

    @classmethod
    def command(cls, argv: list[str], workdir: Path, name: str) -> Sender:
        """Any other helper process, killed like a sender by the test's finalizer."""
        return cls({"run": name}, workdir, argv)

    def running(self) -> bool:
        return self.process.poll() is None

    def report(self, timeout_s: float) -> SendReport:
        try:
            code = self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        self._out.seek(0)
        self._err.seek(0)
        if code != 0:
            raise RuntimeError(f"sender failed ({code}): {self._err.read()[-3000:]!r}")
        return SendReport(**json.loads(self._out.read()))

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self._out.close()
        self._err.close()


# --- samplers ------------------------------------------------------------------------------


def wal_size(db: Path) -> int:
    try:
        return os.stat(f"{db}-wal").st_size
    except FileNotFoundError:
        return 0


def passive_checkpoint(db: Path) -> tuple[int, int, int]:
    """(busy, log frames, checkpointed frames) from a connection of our own, closed at once."""
    with closing(sqlite3.connect(db, timeout=5, isolation_level=None)) as conn:
        busy, log, done = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return int(busy), int(log), int(done)


def checkpoint_until_complete(db: Path, timeout_s: float) -> tuple[tuple[int, int, int], int]:
    """Retry PASSIVE checkpoints until one is complete (busy=0, every frame checkpointed).

    Returns the last result and how many attempts it took.
    """
    deadline = time.monotonic() + timeout_s
    attempts = 0
    result = (-1, -1, -1)
    while True:
        attempts += 1
        try:
            result = passive_checkpoint(db)
        except sqlite3.OperationalError:
            result = (-1, -1, -1)
        if result[0] == 0 and result[1] == result[2]:
            return result, attempts
        if time.monotonic() > deadline:
            return result, attempts
        time.sleep(0.2)


@dataclass
class WalSampler:
    """A thread stat()ing ``<db>-wal`` every ``period_s`` and checkpointing every ``every`` th.

    Every 10 ms: the WAL may pass a bound only while one checkpoint runs, before the writer
    wraps it and ``journal_size_limit`` cuts the file back; a slower sampler would miss it.
    """

    db: Path
    period_s: float = 0.01
    every: int = 100
    sizes: list[int] = field(default_factory=list)
    checkpoints: list[tuple[int, int, int]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="wal-sampler", daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.wait(self.period_s):
            self.sizes.append(wal_size(self.db))
            n += 1
            if n % self.every == 0:
                try:
                    self.checkpoints.append(passive_checkpoint(self.db))
                except sqlite3.Error as exc:
                    self.errors.append(str(exc))

    @property
    def max_bytes(self) -> int:
        return max(self.sizes, default=wal_size(self.db))

    def __enter__(self) -> WalSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def rss_kib(pid: int) -> int | None:
    """VmRSS of ``pid`` in KiB, None once the process is gone."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except (FileNotFoundError, ProcessLookupError):
        return None
    return None


def median(values: list[float]) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def thirds(values: list[float]) -> tuple[list[float], list[float], list[float]]:
    third = len(values) // 3
    return values[:third], values[third : 2 * third], values[2 * third :]


def rows(db: Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    """A read on a connection of our own, closed at once (never pin the WAL)."""
    with closing(sqlite3.connect(db, timeout=10)) as conn:
        return conn.execute(sql, params).fetchall()


def poll(predicate: Callable[[], bool], timeout_s: float, every_s: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout_s
    while True:
        if predicate():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(every_s)


@dataclass
class Sampled:
    """A value sampled once a second on a thread (RSS, WAL size) until stopped."""

    read: Callable[[], float | None]
    period_s: float = 1.0
    values: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.period_s):
            value = self.read()
            if value is not None:
                self.values.append(value)

    def __enter__(self) -> Sampled:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


@dataclass
class Figures:
    """Measured figures: printed (``-s`` shows them) and attached to the test's report."""

    name: str
    record: Callable[[str, object], None]
    values: dict[str, object] = field(default_factory=dict)

    def __setitem__(self, key: str, value: object) -> None:
        self.values[key] = value
        self.record(key, value)

    def show(self) -> None:
        text = ", ".join(f"{k}={v}" for k, v in self.values.items())
        print(f"\n[{self.name}] {text}", flush=True)


if __name__ == "__main__":
    report = sender_main(json.loads(sys.argv[1]))
    sys.stdout.write(json.dumps(report))
