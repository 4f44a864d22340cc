"""Pollers against real servers: Prometheus Alertmanager itself, and a PagerDuty REST stand-in
served over HTTP that keeps PagerDuty's documented semantics (``since`` selects by creation
time, ``date_range=all``, ``offset``/``limit``/``more`` pages, token and Accept headers).

Everything below the HTTP boundary is real: httpx, the adapters, the Ingestor, SQLite on disk.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from oncall_tui.config import PollerSettings, PollersSettings, Settings
from oncall_tui.core.clock import Clock, FixedClock, SystemClock
from oncall_tui.core.models import Incident, IncidentState
from oncall_tui.ingest.record import Ingestor
from oncall_tui.server.pollers.alertmanager import AlertmanagerPoller
from oncall_tui.server.pollers.base import PollError
from oncall_tui.server.pollers.pagerduty import API_ACCEPT, PagerDutyPoller
from oncall_tui.server.pollers.schedule import PollerGroup, start_pollers
from oncall_tui.server.writer import IngestWriter
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import list_incidents

AM_DEFAULT_PATH = "/usr/bin/prometheus-alertmanager"
PD_TOKEN = "pd-test-token"
T0 = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


# --- shared helpers ----------------------------------------------------------------------------


@dataclass
class Db:
    store: Store
    ingestor: Ingestor
    settings: Settings

    def signal_count(self) -> int:
        return int(self.store.conn.execute("SELECT count(*) FROM signals").fetchone()[0])

    def incidents(self, *, include_resolved: bool = False) -> list[Incident]:
        return list_incidents(self.store.conn, include_resolved=include_resolved)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Db]:
    path = tmp_path / "oncall.db"
    store = Store.open(path)
    settings = Settings(db=path)
    yield Db(store, Ingestor(store, settings), settings)
    store.close()


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        time.sleep(0.02)


@contextmanager
def serve_in_thread(app: Starlette) -> Iterator[str]:
    """A real uvicorn server on 127.0.0.1 (port chosen by the OS); yields its base URL."""
    config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=10)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


def rfc3339(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# --- a real Alertmanager ---------------------------------------------------------------------

NULL_RECEIVER = 'route:\n  receiver: "null"\nreceivers:\n  - name: "null"\n'


def alertmanager_binary() -> str:
    found = shutil.which("prometheus-alertmanager") or (
        AM_DEFAULT_PATH if os.access(AM_DEFAULT_PATH, os.X_OK) else None
    )
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail(".ci/run must install prometheus-alertmanager (apt-get install it)")
    pytest.skip("prometheus-alertmanager is not installed")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def run_alertmanager(tmp_path: Path, config: str = NULL_RECEIVER) -> Iterator[str]:
    """Alertmanager on loopback, clustering off, state in tmp_path; yields its URL."""
    binary = alertmanager_binary()
    (tmp_path / "am.yml").write_text(config)
    for _attempt in range(3):  # the free port may be taken before Alertmanager binds it
        port = free_port()
        log = (tmp_path / f"am-{port}.log").open("wb")
        proc = subprocess.Popen(
            [
                binary,
                f"--config.file={tmp_path / 'am.yml'}",
                f"--storage.path={tmp_path / 'am-data'}",
                "--cluster.listen-address=",
                f"--web.listen-address=127.0.0.1:{port}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            if _ready(proc, url):
                yield url
                return
        finally:
            proc.terminate()
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
            log.close()
    raise AssertionError(f"Alertmanager did not start; see {tmp_path}/am-*.log")


def _ready(proc: subprocess.Popen[bytes], url: str) -> bool:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    return False


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    with run_alertmanager(tmp_path) as url:
        yield url


LABELS = {"alertname": "PaymentsDown", "service": "payment-processor", "severity": "critical"}


def post_alert(url: str, *, starts_at: str | None = None, ends_at: str | None = None) -> None:
    alert: dict[str, Any] = {
        "labels": LABELS,
        "annotations": {"summary": "payment processor is failing"},
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
    }
    if starts_at:
        alert["startsAt"] = starts_at
    if ends_at:
        alert["endsAt"] = ends_at
    response = httpx.post(f"{url}/api/v2/alerts", json=[alert], timeout=5)
    assert response.status_code == 200, response.text


def am_poller(url: str, db: Db, clock: Clock | None = None) -> AlertmanagerPoller:
    return AlertmanagerPoller(PollerSettings(url=url), db.ingestor.ingest, clock or SystemClock())


@pytest.mark.alertmanager
def test_alertmanager_poll_opens_dedups_and_resolves(alertmanager: str, db: Db) -> None:
    started = rfc3339(datetime.now(UTC) - timedelta(minutes=10))
    post_alert(alertmanager, starts_at=started)
    poller = am_poller(alertmanager, db)

    first = poller.poll_once()
    assert (first.fetched, first.signals) == (1, 1)
    [incident] = db.incidents()
    assert incident.service == "payment-processor"
    assert incident.state is IncidentState.TRIGGERED

    again = poller.poll_once()
    assert (again.signals, again.duplicates) == (0, 1)
    assert db.signal_count() == 1
    attempts = db.store.conn.execute("SELECT attempts FROM deliveries").fetchall()
    assert attempts == [(2,)]  # one stored delivery, polled twice

    post_alert(
        alertmanager, starts_at=started, ends_at=rfc3339(datetime.now(UTC) - timedelta(minutes=1))
    )
    resolved = poller.poll_once()
    assert (resolved.fetched, resolved.signals) == (0, 1)
    assert db.incidents() == []
    [closed] = db.incidents(include_resolved=True)
    assert closed.id == incident.id
    assert closed.state is IncidentState.RESOLVED
    poller.close()


@pytest.mark.alertmanager
def test_alertmanager_webhook_then_poll_records_the_alert_once(alertmanager: str, db: Db) -> None:
    # Millisecond precision in UTC: the one form the webhook (RFC 3339 with nanoseconds, trailing
    # zeros cut) and the API (always milliseconds) write identically.
    started = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S.123Z")
    post_alert(alertmanager, starts_at=started)
    [listed] = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
    alert = {
        "status": "firing",
        "labels": LABELS,
        "annotations": {"summary": "payment processor is failing"},
        "startsAt": started,
        "endsAt": "0001-01-01T00:00:00Z",
        "generatorURL": "http://prometheus.example:9090/graph?g0.expr=up",
        "fingerprint": listed["fingerprint"],
    }
    webhook = {
        "receiver": "oncall",
        "status": "firing",
        "alerts": [alert],
        "groupLabels": {"alertname": "PaymentsDown"},
        "commonLabels": LABELS,
        "commonAnnotations": alert["annotations"],
        "externalURL": alertmanager,
        "version": "4",
        "groupKey": '{}:{alertname="PaymentsDown"}',
        "truncatedAlerts": 0,
    }
    pushed = db.ingestor.ingest(
        "alertmanager", json.dumps(webhook).encode(), {"content-type": "application/json"}
    )
    assert (pushed.status, pushed.signals) == ("accepted", 1)

    polled = am_poller(alertmanager, db).poll_once()

    assert polled.sent == 1 and polled.duplicates == 0  # a new delivery (another group key) ...
    assert polled.signals == 0  # ... carrying a signal already recorded
    assert db.signal_count() == 1
    assert len(db.incidents()) == 1


@pytest.mark.alertmanager
def test_alertmanager_silenced_alert_stays_open(alertmanager: str, db: Db) -> None:
    started = rfc3339(datetime.now(UTC) - timedelta(minutes=10))
    post_alert(alertmanager, starts_at=started)
    poller = am_poller(alertmanager, db)
    poller.poll_once()
    now = datetime.now(UTC)
    silence = {
        "matchers": [
            {"name": "alertname", "value": "PaymentsDown", "isRegex": False, "isEqual": True}
        ],
        "startsAt": rfc3339(now),
        "endsAt": rfc3339(now + timedelta(hours=1)),
        "createdBy": "oncall engineer",
        "comment": "muted while we work on it",
    }
    assert httpx.post(f"{alertmanager}/api/v2/silences", json=silence, timeout=5).is_success

    muted = poller.poll_once()

    assert (muted.fetched, muted.signals) == (1, 0)
    [incident] = db.incidents()
    assert incident.state is IncidentState.TRIGGERED

    post_alert(
        alertmanager, starts_at=started, ends_at=rfc3339(datetime.now(UTC) - timedelta(seconds=30))
    )
    assert poller.poll_once().signals == 1
    assert db.incidents() == []


@pytest.mark.alertmanager
def test_alertmanager_real_webhook_then_poll_records_the_alert_once(tmp_path: Path, db: Db) -> None:
    receiver_store = Store.open(db.settings.db)
    receiver = Ingestor(receiver_store, db.settings)

    async def webhook(request: Request) -> Response:
        result = receiver.ingest("alertmanager", await request.body(), dict(request.headers))
        return JSONResponse(result.as_json(), status_code=result.http_status)

    app = Starlette(routes=[Route("/webhooks/alertmanager", webhook, methods=["POST"])])
    with serve_in_thread(app) as base:
        config = (
            "route:\n  receiver: oncall\n  group_wait: 0s\n  group_interval: 1s\n"
            "receivers:\n  - name: oncall\n    webhook_configs:\n"
            f"      - url: {base}/webhooks/alertmanager\n        send_resolved: true\n"
        )
        with run_alertmanager(tmp_path, config) as url:
            post_alert(url)  # Alertmanager stamps startsAt itself, with nanoseconds
            wait_until(lambda: db.signal_count() == 1, timeout=15)
            polled = am_poller(url, db).poll_once()
    receiver_store.close()

    assert len(db.incidents()) == 1
    assert polled.signals == 0
    assert db.signal_count() == 1


# --- a PagerDuty REST stand-in --------------------------------------------------------------


@dataclass
class FakePagerDuty:
    """PagerDuty's ``/incidents`` as documented, over state the test changes between polls."""

    now: datetime = T0
    page_cap: int = 2
    fail_status: int | None = None
    hang_s: float = 0.0
    incidents: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[tuple[str, list[tuple[str, str]], float]] = field(default_factory=list)
    headers_seen: list[tuple[str | None, str | None]] = field(default_factory=list)

    def add(self, number: int, service: str, status: str, created: datetime) -> str:
        incident_id = f"PINC{number:03d}"
        stamp = created.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.incidents[incident_id] = {
            "id": incident_id,
            "type": "incident",
            "summary": f"[#{number}] {service} is failing",
            "self": f"https://api.pagerduty.com/incidents/{incident_id}",
            "html_url": f"https://acme.pagerduty.com/incidents/{incident_id}",
            "incident_number": number,
            "title": f"{service} is failing",
            "created_at": stamp,
            "updated_at": stamp,
            "last_status_change_at": stamp,
            "status": status,
            "incident_key": f"key-{number}",
            "service": {
                "id": f"PSVC{number:03d}",
                "type": "service_reference",
                "summary": service,
                "self": f"https://api.pagerduty.com/services/PSVC{number:03d}",
                "html_url": f"https://acme.pagerduty.com/service-directory/PSVC{number:03d}",
            },
            "assignments": [],
            "urgency": "high",
            "priority": {"id": "PPRIO01", "type": "priority", "summary": "P1"},
            "escalation_policy": {"id": "PEPOL01", "type": "escalation_policy_reference"},
            "teams": [],
        }
        return incident_id

    def change(self, incident_id: str, status: str, at: datetime) -> None:
        stamp = at.strftime("%Y-%m-%dT%H:%M:%SZ")
        self.incidents[incident_id].update(
            status=status, last_status_change_at=stamp, updated_at=stamp
        )

    def paths(self) -> list[str]:
        return [path for path, _, _ in self.requests]

    def app(self) -> Starlette:
        def guard(request: Request) -> Response | None:
            self.requests.append(
                (request.url.path, list(request.query_params.multi_items()), time.monotonic())
            )
            auth, accept = request.headers.get("authorization"), request.headers.get("accept")
            self.headers_seen.append((auth, accept))
            if self.hang_s:
                time.sleep(self.hang_s)
            if auth != f"Token token={PD_TOKEN}":
                return JSONResponse({"error": {"message": "Unauthorized", "code": 2006}}, 401)
            if accept != API_ACCEPT:
                return JSONResponse({"error": {"message": "Not Acceptable"}}, 406)
            if self.fail_status:
                return JSONResponse({"error": {"message": "Internal Error"}}, self.fail_status)
            return None

        def list_incidents(request: Request) -> Response:
            refused = guard(request)
            if refused:
                return refused
            params = request.query_params
            statuses = params.getlist("statuses[]")
            services = params.getlist("service_ids[]")
            since = params.get("since")
            earliest = (
                None
                if params.get("date_range") == "all"
                else (datetime.fromisoformat(since) if since else self.now - timedelta(days=30))
            )
            selected = [
                incident
                for incident in sorted(self.incidents.values(), key=lambda i: i["incident_number"])
                if (not statuses or incident["status"] in statuses)
                and (not services or incident["service"]["id"] in services)
                and (earliest is None or datetime.fromisoformat(incident["created_at"]) >= earliest)
            ]
            limit = min(int(params.get("limit", "25")), self.page_cap)
            offset = int(params.get("offset", "0"))
            page = selected[offset : offset + limit]
            more = offset + limit < len(selected)
            return JSONResponse(
                {"incidents": page, "limit": limit, "offset": offset, "total": None, "more": more}
            )

        def get_incident(request: Request) -> Response:
            refused = guard(request)
            if refused:
                return refused
            incident = self.incidents.get(request.path_params["incident_id"])
            if incident is None:
                return JSONResponse({"error": {"message": "Not Found", "code": 2100}}, 404)
            return JSONResponse({"incident": incident})

        return Starlette(
            routes=[
                Route("/incidents", list_incidents),
                Route("/incidents/{incident_id}", get_incident),
            ]
        )


@pytest.fixture
def pagerduty() -> Iterator[tuple[FakePagerDuty, str]]:
    fake = FakePagerDuty()
    with serve_in_thread(fake.app()) as url:
        yield fake, url


def pd_settings(url: str, **overrides: Any) -> PollerSettings:
    return PollerSettings(url=url, token=SecretStr(PD_TOKEN), **overrides)


def by_service(db: Db) -> dict[str | None, IncidentState]:
    return {incident.service: incident.state for incident in db.incidents(include_resolved=True)}


def test_pagerduty_incidents_appear_across_pages(
    pagerduty: tuple[FakePagerDuty, str], db: Db
) -> None:
    fake, url = pagerduty
    for number in range(1, 6):
        status = "acknowledged" if number % 2 == 0 else "triggered"
        fake.add(number, f"svc-{number}", status, T0 - timedelta(hours=number))
    poller = PagerDutyPoller(pd_settings(url), db.ingestor.ingest, FixedClock(T0))

    report = poller.poll_once()

    assert report.fetched == 5
    assert by_service(db) == {
        "svc-1": IncidentState.TRIGGERED,
        "svc-2": IncidentState.ACKNOWLEDGED,
        "svc-3": IncidentState.TRIGGERED,
        "svc-4": IncidentState.ACKNOWLEDGED,
        "svc-5": IncidentState.TRIGGERED,
    }
    open_offsets = [
        dict(params)["offset"]
        for path, params, _ in fake.requests
        if ("date_range", "all") in params
    ]
    assert open_offsets == ["0", "2", "4"]
    assert set(fake.headers_seen) == {(f"Token token={PD_TOKEN}", API_ACCEPT)}
    poller.close()


def test_pagerduty_service_ids_restrict_the_poll(
    pagerduty: tuple[FakePagerDuty, str], db: Db
) -> None:
    fake, url = pagerduty
    for number in range(1, 4):
        fake.add(number, f"svc-{number}", "triggered", T0 - timedelta(minutes=number))
    settings = pd_settings(url, service_ids=["PSVC001", "PSVC003"])
    poller = PagerDutyPoller(settings, db.ingestor.ingest, FixedClock(T0))

    assert poller.poll_once().fetched == 2

    assert set(by_service(db)) == {"svc-1", "svc-3"}
    for _, params, _ in fake.requests:
        assert [value for name, value in params if name == "service_ids[]"] == [
            "PSVC001",
            "PSVC003",
        ]
    poller.close()


def test_pagerduty_transitions_of_an_old_incident_apply(
    pagerduty: tuple[FakePagerDuty, str], db: Db
) -> None:
    fake, url = pagerduty
    old = fake.add(7, "payment-processor", "triggered", T0 - timedelta(hours=2))
    clock = FixedClock(T0)
    poller = PagerDutyPoller(pd_settings(url), db.ingestor.ingest, clock)
    poller.poll_once()
    assert by_service(db) == {"payment-processor": IncidentState.TRIGGERED}

    # Created two hours before the last poll: a `since` on creation time would never see these.
    fake.change(old, "acknowledged", T0 + timedelta(minutes=1))
    clock.advance(120)
    poller.poll_once()
    assert by_service(db) == {"payment-processor": IncidentState.ACKNOWLEDGED}

    fake.change(old, "resolved", T0 + timedelta(minutes=3))
    clock.advance(120)
    report = poller.poll_once()
    assert report.signals == 1
    assert by_service(db) == {"payment-processor": IncidentState.RESOLVED}
    assert f"/incidents/{old}" in fake.paths()

    quiet = poller.poll_once()
    assert (quiet.fetched, quiet.signals) == (0, 0)
    poller.close()


def test_pagerduty_incident_opened_and_resolved_between_polls(
    pagerduty: tuple[FakePagerDuty, str], db: Db
) -> None:
    fake, url = pagerduty
    clock = FixedClock(T0)
    poller = PagerDutyPoller(pd_settings(url), db.ingestor.ingest, clock)
    assert poller.poll_once().fetched == 0
    short = fake.add(8, "checkout", "triggered", T0 + timedelta(seconds=20))
    fake.change(short, "resolved", T0 + timedelta(seconds=50))
    clock.advance(60)

    report = poller.poll_once()

    assert (report.fetched, report.signals) == (1, 2)  # triggered, then resolved
    [incident] = db.incidents(include_resolved=True)
    assert (incident.service, incident.state) == ("checkout", IncidentState.RESOLVED)
    # Opened when polled (our receipt); PagerDuty's created_at is kept as the signal's own time.
    assert incident.signal_started_at == T0 + timedelta(seconds=20)
    poller.close()


def test_pagerduty_repeated_poll_records_nothing_new(
    pagerduty: tuple[FakePagerDuty, str], db: Db
) -> None:
    fake, url = pagerduty
    fake.add(1, "payment-processor", "acknowledged", T0 - timedelta(minutes=30))
    fake.change("PINC001", "acknowledged", T0 - timedelta(minutes=20))
    poller = PagerDutyPoller(pd_settings(url), db.ingestor.ingest, FixedClock(T0))

    first = poller.poll_once()
    second = poller.poll_once()

    assert (first.sent, first.signals) == (2, 2)
    assert (second.sent, second.duplicates, second.signals) == (2, 2, 0)
    assert db.signal_count() == 2
    ids = [
        row[0] for row in db.store.conn.execute("SELECT delivery_key FROM deliveries ORDER BY id")
    ]
    assert ids == [
        "pagerduty:event:oncall-poll:PINC001:triggered:2026-11-23T02:30:00Z",
        "pagerduty:event:oncall-poll:PINC001:acknowledged:2026-11-23T02:40:00Z",
    ]
    poller.close()


def test_pagerduty_wrong_token_is_a_poll_error(
    pagerduty: tuple[FakePagerDuty, str], db: Db
) -> None:
    fake, url = pagerduty
    settings = PollerSettings(url=url, token=SecretStr("wrong"))
    poller = PagerDutyPoller(settings, db.ingestor.ingest, FixedClock(T0))
    with pytest.raises(PollError, match="HTTP 401") as caught:
        poller.poll_once()
    assert caught.value.http_status == 401
    assert "wrong" not in str(caught.value)
    poller.close()


# --- scheduling ------------------------------------------------------------------------------


@contextmanager
def running_pollers(db: Db, pollers: PollersSettings, **kwargs: Any) -> Iterator[PollerGroup]:
    settings = db.settings.model_copy(update={"pollers": pollers})
    shared = IngestWriter(settings, SystemClock(), 5000)
    group = start_pollers(settings, shared.ingest, FixedClock(T0), **kwargs)
    try:
        yield group
    finally:
        group.stop()
        shared.close()


def test_server_error_backs_off_is_reported_and_recovers(
    pagerduty: tuple[FakePagerDuty, str], db: Db
) -> None:
    fake, url = pagerduty
    fake.add(1, "payment-processor", "triggered", T0 - timedelta(minutes=5))
    fake.fail_status = 500
    pollers = PollersSettings(pagerduty=pd_settings(url, interval_s=0.05))
    with running_pollers(db, pollers, max_backoff_s=0.4) as group:
        [handle] = group
        wait_until(lambda: handle.status.consecutive_failures >= 5)
        failing = handle.status
        assert failing.state == "error"
        assert "HTTP 500" in failing.message
        assert failing.next_poll_in_s == 0.4  # 0.05 doubled per failure, capped
        times = [at for _, _, at in fake.requests]
        gaps = [later - earlier for earlier, later in zip(times, times[1:], strict=False)]
        assert gaps[3] > 2 * gaps[0]
        assert handle.running
        assert db.incidents() == []

        fake.fail_status = None
        wait_until(lambda: handle.status.state == "ok", timeout=5)
        assert handle.status.consecutive_failures == 0
        assert handle.status.next_poll_in_s == 0.05
        # The receiver folds a delivery into its incident just after committing it.
        wait_until(lambda: [i.service for i in db.incidents()] == ["payment-processor"])


def test_stop_returns_promptly_when_idle(pagerduty: tuple[FakePagerDuty, str], db: Db) -> None:
    _, url = pagerduty
    pollers = PollersSettings(pagerduty=pd_settings(url, interval_s=60))
    with running_pollers(db, pollers) as group:
        [handle] = group
        wait_until(lambda: handle.status.state == "ok")
        started = time.monotonic()
        assert group.stop() is True
        assert time.monotonic() - started < 2.0
        assert not handle.running


def test_stop_returns_promptly_while_a_request_hangs(
    pagerduty: tuple[FakePagerDuty, str], db: Db
) -> None:
    fake, url = pagerduty
    fake.hang_s = 3.0
    pollers = PollersSettings(pagerduty=pd_settings(url, interval_s=60))
    with running_pollers(db, pollers) as group:
        [handle] = group
        wait_until(lambda: len(fake.requests) == 1)
        started = time.monotonic()
        assert group.stop() is False  # the request is still in flight ...
        assert time.monotonic() - started < 2.5
        wait_until(lambda: not handle.running, timeout=15)  # ... and the thread ends after it


def test_misconfigured_poller_is_reported_without_raising(db: Db) -> None:
    pollers = PollersSettings(pagerduty=PollerSettings(url="https://api.pagerduty.com"))
    with running_pollers(db, pollers) as group:
        assert len(group) == 0
        [status] = group.statuses()
        assert (status.name, status.state) == ("pagerduty", "error")
        assert "pollers.pagerduty.token" in status.message
