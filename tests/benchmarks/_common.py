"""Shared pieces of the benchmarks: result rows, payload makers, servers and the load generator.

Kept free of ``oncall_tui`` imports at module level so the load-generator child process starts
fast and does not compete with the server it measures for more CPU than it must (2 cores).
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing, contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from tests.support.receiver_http import LOOPBACK
from tests.support.samples import REPO, SAMPLE_SECRET, SAMPLES

LOADGEN_TIMEOUT_S = 180.0
"""No load generator may run longer than this, whatever its count: benchmarks stop by themselves."""

Direction = Literal["min", "max"]
"""``min``: the value must be at least the target (throughput); ``max``: at most (latency)."""


@dataclass
class Result:
    """One row of the table: a figure, our value, the baseline measured in the same run."""

    name: str
    value: float
    unit: str
    baseline: float | None = None
    baseline_label: str = ""
    """What the baseline is (printed in the notes), e.g. "minimal ASGI endpoint"."""
    target: float | None = None
    direction: Direction = "max"
    passed: bool | None = None
    """None: informational (no target); otherwise computed from value, target and direction."""
    notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.passed is None and self.target is not None:
            ok = self.value >= self.target if self.direction == "min" else self.value <= self.target
            self.passed = bool(ok) and not math.isnan(self.value)

    @property
    def ratio(self) -> float | None:
        """Ours over the baseline (for throughputs > 1 is better, for latencies < 1 is)."""
        if self.baseline is None or self.baseline == 0 or math.isnan(self.value):
            return None
        return self.value / self.baseline

    @property
    def target_text(self) -> str:
        if self.target is None:
            return "-"
        return f"{'≥' if self.direction == 'min' else '≤'} {fmt(self.target)}"

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["ratio"] = self.ratio
        data["target_text"] = self.target_text
        for key in ("value", "baseline", "ratio"):
            if isinstance(data[key], float) and not math.isfinite(data[key]):
                data[key] = None  # JSON has no NaN
        return data


def fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if abs(value) >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def percentile(samples: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile; NaN for no samples (a benchmark that measured nothing fails)."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    rank = max(1, math.ceil(pct / 100 * len(ordered)))
    return ordered[min(rank, len(ordered)) - 1]


@contextmanager
def workdir(prefix: str) -> Iterator[Path]:
    """A private temporary directory, removed afterwards (DBs of 100s of MB must not linger)."""
    with tempfile.TemporaryDirectory(prefix=f"oncall-bench-{prefix}-") as name:
        yield Path(name)


# --- payloads ---------------------------------------------------------------------------


def sign(body: bytes, secret: str = SAMPLE_SECRET) -> str:
    return "v1=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


_PD_TEMPLATES: dict[str, dict[str, Any]] = {}


def pagerduty_variant(
    sample: str,
    *,
    event_id: str,
    incident_id: str,
    number: int,
    incident_key: str,
    title: str,
    webhook_id: str,
    service: str | None = None,
) -> tuple[bytes, dict[str, str]]:
    """The signed PagerDuty sample ``pagerduty/<sample>.json`` as a delivery of its own: new
    event, incident and webhook ids (so it is stored, never a retry), signed as PagerDuty does."""
    if sample not in _PD_TEMPLATES:
        _PD_TEMPLATES[sample] = json.loads((SAMPLES / "pagerduty" / f"{sample}.json").read_bytes())
    payload = copy.deepcopy(_PD_TEMPLATES[sample])
    event = payload["event"]
    event["id"] = event_id
    event["occurred_at"] = _now_iso()
    data = event["data"]
    data["id"] = incident_id
    data["number"] = number
    data["incident_key"] = incident_key
    data["title"] = title
    if service is not None:
        data["service"]["summary"] = service
    body = json.dumps(payload, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "PagerDuty-Webhook/V3.0",
        "X-Webhook-Id": webhook_id,
        "X-PagerDuty-Signature": sign(body),
    }
    return body, headers


def pagerduty_delivery(index: int, run: str) -> tuple[bytes, dict[str, str]]:
    """The signed PagerDuty sample, made a new delivery of a new PagerDuty incident.

    The service stays ``payment-processor``, so they all join one oncall incident, as an alert
    storm on one service does. The title carries ``evt-<index>`` so a context file shows which
    deliveries it already reflects.
    """
    return pagerduty_variant(
        "triggered",
        event_id=f"01BENCH{run}{index:010d}",
        incident_id=f"QB{run}{index:010d}",
        number=100_000 + index,
        incident_key=f"bench-{run}-{index}",
        title=f"payment-processor: 5xx ratio above 5% (evt-{index:06d})",
        webhook_id=f"bench-{run}-{index:010d}",
    )


def alertmanager_alert(index: int, run: str, service: str = "payment-processor") -> dict[str, Any]:
    """One firing alert with its own fingerprint and start, as a storm of distinct alerts has."""
    labels = {
        "alertname": "PaymentProcessorHighErrorRate",
        "env": "prod",
        "instance": f"10.42.{index // 250 % 256}.{index % 250}:8080",
        "job": f"{service}-prod",
        "pod": f"{service}-{run}-{index:06d}",
        "service": service,
        "severity": "critical",
    }
    return {
        "status": "firing",
        "labels": labels,
        "annotations": {
            "summary": f"{service} 5xx ratio above 5% (evt-{index:06d})",
            "description": f"8.3% of requests on pod {labels['pod']} returned 5xx over 5m.",
            "runbook_url": "https://runbooks.example.com/payments/payment-processor",
        },
        "startsAt": _now_iso(),
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.monitoring.svc:9090/graph?g0.expr=up",
        "fingerprint": hashlib.sha256(f"{run}:{index}".encode()).hexdigest()[:16],
    }


def alertmanager_group(alerts: list[dict[str, Any]], run: str) -> bytes:
    """One Alertmanager v4 notification carrying ``alerts`` (one aggregation group)."""
    payload = {
        "receiver": "oncall-tui",
        "status": "firing",
        "alerts": alerts,
        "groupLabels": {"alertname": "PaymentProcessorHighErrorRate"},
        "commonLabels": {"alertname": "PaymentProcessorHighErrorRate", "env": "prod"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.monitoring.svc:9093",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="PaymentProcessorHighErrorRate",run="{run}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


def alertmanager_delivery(index: int, run: str) -> tuple[bytes, dict[str, str]]:
    body = alertmanager_group([alertmanager_alert(index, run)], f"{run}-{index}")
    return body, {"Content-Type": "application/json", "User-Agent": "Alertmanager/0.27.0"}


MAKERS: dict[str, Callable[[int, str], tuple[bytes, dict[str, str]]]] = {
    "pagerduty": pagerduty_delivery,
    "alertmanager": alertmanager_delivery,
}


# --- load generator ---------------------------------------------------------------------


@dataclass
class LoadReport:
    """What the load generator saw; times are ``time.monotonic()`` (comparable across processes)."""

    sent: int
    statuses: dict[str, int]
    elapsed_s: float
    latencies_s: list[float]
    done_at: list[float]
    """Monotonic time each counted request got its answer, by request index."""
    started_at: float

    @property
    def rate(self) -> float:
        return self.sent / self.elapsed_s if self.elapsed_s > 0 else math.nan

    def ok(self, status: int = 202) -> int:
        return self.statuses.get(str(status), 0)


def run_loadgen(
    port: int,
    *,
    source: str,
    count: int,
    run: str,
    threads: int = 8,
    warmup: int = 0,
    rate: float | None = None,
    first_index: int = 0,
) -> LoadReport:
    """Send ``count`` deliveries from a separate process over ``threads`` keep-alive connections.

    A separate process, because a client sharing the server's GIL measures the client; and
    ``http.client`` threads, because an asyncio client saturates before the server does
    (performance-and-safety.md, "the load generator matters"). ``rate`` paces the sends
    (events/s) instead of sending as fast as answers come back.
    """
    spec = {
        "port": port,
        "source": source,
        "count": count,
        "run": run,
        "threads": threads,
        "warmup": warmup,
        "rate": rate,
        "first_index": first_index,
    }
    proc = subprocess.run(
        [sys.executable, "-m", "tests.benchmarks._loadgen", json.dumps(spec)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=LOADGEN_TIMEOUT_S,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"load generator failed ({proc.returncode}): {proc.stderr[-2000:]}")
    data = json.loads(proc.stdout)
    return LoadReport(**data)


def wait_folded(db: Path, signals: int, timeout_s: float = 120.0) -> float:
    """``time.monotonic()`` once the receiver has folded everything it acknowledged and the DB
    holds ``signals`` signals (the receiver answers 202 on commit and folds afterwards); NaN if
    that never happens within ``timeout_s``."""
    import sqlite3

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(db, timeout=10)) as conn:
            received = conn.execute(
                "SELECT count(*) FROM deliveries WHERE status = 'received'"
            ).fetchone()[0]
            stored = conn.execute("SELECT count(*) FROM signals").fetchone()[0]
        if received == 0 and stored >= signals:
            return time.monotonic()
        time.sleep(0.02)
    return math.nan


# --- servers ----------------------------------------------------------------------------


def bind_loopback() -> socket.socket:
    """A listening socket on 127.0.0.1 with a free port, set up the way the receiver's is.

    ``IPPROTO_TCP`` matters: asyncio only sets TCP_NODELAY on sockets that say TCP (see
    ``oncall_tui.server.runner._bind``); a baseline without it would wait out delayed ACKs.
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((LOOPBACK, 0))
    sock.listen(2048)
    return sock


class ServerThread:
    """Any ASGI app under the same uvicorn configuration as the receiver, on a thread.

    Used for the baselines, so "ours vs minimal" differs only in the application.
    """

    def __init__(self, app: Any) -> None:
        import uvicorn

        from oncall_tui.server.protocol import with_head_deadline

        self._sock = bind_loopback()
        config = uvicorn.Config(
            app,
            http=with_head_deadline(10.0),
            lifespan="on",
            log_level="warning",
            log_config=None,
            access_log=False,
            server_header=False,
            proxy_headers=False,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._serve, name="bench-baseline", daemon=True)

    @property
    def port(self) -> int:
        port: int = self._sock.getsockname()[1]
        return port

    def _serve(self) -> None:
        with self._sock:
            self._server.run(sockets=[self._sock])

    def __enter__(self) -> ServerThread:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("baseline server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(20)


class TimingMiddleware:
    """Server-side latency of every HTTP request: from the app being called to its last byte.

    This is the "server latency" of the targets (the client's round trip adds its own queueing
    and parsing, which on 2 shared cores says more about the client).
    """

    def __init__(self, app: Any) -> None:
        self.app = app
        self.samples: list[float] = []

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: dict[str, Any]) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                self.samples.append(time.perf_counter() - started)

        await self.app(scope, receive, timed_send)


@contextmanager
def timed_receiver(
    settings: Any, clock: Any, **options: Any
) -> Iterator[tuple[int, TimingMiddleware]]:
    """Our receiver (``ReceiverThread``, with ``options``) with a :class:`TimingMiddleware`
    around its app."""
    from oncall_tui.server import runner

    original = runner.create_app
    holder: list[TimingMiddleware] = []

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        middleware = TimingMiddleware(original(*args, **kwargs))
        holder.append(middleware)
        return middleware

    runner.create_app = wrapped  # type: ignore[assignment]
    try:
        receiver = runner.ReceiverThread(settings, clock, **options)
        port = receiver.start()
    finally:
        runner.create_app = original
    try:
        yield port, holder[0]
    finally:
        receiver.stop()


def machine_info() -> dict[str, str]:
    import platform
    import sqlite3

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "nproc": str(len(os.sched_getaffinity(0))),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


# --- the baseline receiver --------------------------------------------------------------

MINIMAL_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, source TEXT NOT NULL,"
    " delivery_key TEXT NOT NULL, received_at TEXT NOT NULL, headers TEXT NOT NULL,"
    " body BLOB NOT NULL, UNIQUE (source, delivery_key))",
    "CREATE TABLE IF NOT EXISTS alerts (id INTEGER PRIMARY KEY, delivery_id INTEGER NOT NULL,"
    " fingerprint TEXT NOT NULL, status TEXT NOT NULL, data TEXT NOT NULL)",
)


def minimal_receiver(db_path: Path, secret: str = SAMPLE_SECRET) -> Any:
    """The least a receiver can do: the baseline printed beside ours.

    Raw ASGI, no framework: read the body, check the PagerDuty HMAC in constant time (PagerDuty
    route), then one ``INSERT OR IGNORE`` of the raw delivery and one commit, answered 202. The
    Alertmanager route parses the group and stores one row per alert in the same commit, the
    minimum "fully stored" means for a storm. Same threading as ours (a 4-thread limiter and one
    lock around one WAL/NORMAL connection), so the difference is the work, not the plumbing.
    """
    import sqlite3

    import anyio
    import anyio.to_thread

    conn = sqlite3.connect(db_path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    for statement in MINIMAL_SCHEMA:
        conn.execute(statement)
    lock = threading.Lock()
    limiter: anyio.CapacityLimiter | None = None
    secret_bytes = secret.encode()

    def store(source: str, key: str, headers: dict[str, str], body: bytes) -> bool:
        with lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO deliveries (source, delivery_key, received_at, headers,"
                    " body) VALUES (?, ?, ?, ?, ?)",
                    (source, key, _now_iso(), json.dumps(headers), body),
                )
                if source == "alertmanager" and cursor.rowcount:
                    alerts = json.loads(body)["alerts"]
                    conn.executemany(
                        "INSERT INTO alerts (delivery_id, fingerprint, status, data)"
                        " VALUES (?, ?, ?, ?)",
                        [
                            (cursor.lastrowid, a["fingerprint"], a["status"], json.dumps(a))
                            for a in alerts
                        ],
                    )
                conn.execute("COMMIT")
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            return True

    async def respond(send: Any, status: int, body: bytes) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        nonlocal limiter
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    limiter = anyio.CapacityLimiter(4)
                    await send({"type": "lifespan.startup.complete"})
                else:
                    conn.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        source = scope["path"].rsplit("/", 1)[-1]
        if source == "pagerduty":
            expected = hmac.new(secret_bytes, body, hashlib.sha256).hexdigest().encode()
            given = headers.get("x-pagerduty-signature", "").removeprefix("v1=").encode()
            if not hmac.compare_digest(expected, given):
                await respond(send, 403, b'{"error":"bad signature"}')
                return
            key = headers.get("x-webhook-id", "")
        else:
            key = hashlib.sha256(body).hexdigest()
        await anyio.to_thread.run_sync(store, source, key, headers, body, limiter=limiter)
        await respond(send, 202, b'{"status":"accepted"}')

    return app
