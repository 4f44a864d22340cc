"""Two ``serve`` processes on one PostgreSQL schema, each sent every notification, as
Alertmanager's HA pair sends them: every delivery is stored once, folded once by the holder of
the fold lease, and the incidents are those one receiver alone makes of the same deliveries.
SIGKILL of the folder mid-burst loses nothing a sender was told was taken, and the other takes
the fold over and folds the backlog.

Alertmanager's HA peers each notify every receiver with the same group key and content
(prometheus/alertmanager #4108, #1718): the delivery key is the group key plus each alert's
fingerprint, status and start (:func:`oncall_tui.sources.alertmanager.group_delivery_key`), so
the copies of one notification collapse onto one row.

The single receiver is sent the deliveries one by one in the order the pair stored them: the
fold goes by that order (commit order, as the journal's lock makes it), incident numbers follow
it, and the order across groups is whichever sender got there first. Deploys reach one serve or
the other, and both serves resolve deploy ranges: each range is journaled once.

The serves run on the system clock (their store's times, the lease's); the story's times are
the notifications' own, fixed, and the projection compared leaves out when rows were received.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.server.writer import FOLD_LEASE
from oncall_tui.store.lease import LEASE_TTL_S, RENEW_EVERY_S
from oncall_tui.store.lease_read import lease_key
from tests.integration.conftest import Endpoint, ServeFactory, ServeProcess
from tests.support.git_repos import commit, init_repo
from tests.support.receiver_http import LOOPBACK, post_once
from tests.support.samples import sample, sample_headers

NOTIFICATIONS = 1000
GROUPS = 50
SERVICES = 10
ALERTS_PER_GROUP = 2
LANES = 4
"""Senders working at once, each on its own groups: Alertmanager notifies a group's changes in
order, and many groups at a time."""
TOKEN = "ha-pair-token"
HEADERS = {
    "Content-Type": "application/json",
    "User-Agent": "Alertmanager/0.27.0",
    "Authorization": f"Bearer {TOKEN}",
}
STORY_START = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
EPISODE = timedelta(hours=1)
"""A group's alerts fire, one resolves, then the other, and the next episode fires an hour
later: beyond the correlation window, so an incident resolved stays resolved until then."""
KILL_AFTER = 300
"""About this many notifications are answered by both serves when the fold-lease holder is
killed."""
TAKEOVER_S = LEASE_TTL_S + 3 * RENEW_EVERY_S
DEPLOYS = 12
DEPLOY_EVERY = timedelta(minutes=30)
DEPLOYED_REPO = "acme-payments/payments-api"
"""The sample deploy's repository (and, by its name, service)."""
COMMITS_INTERVAL_S = 0.1
"""Both serves resolve deploys this often: a deploy one of them folded meets both rounds."""
FOLD_TIMEOUT_S = 30.0


def _iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def notification(n: int) -> bytes:
    """Notification ``n`` of the story: group ``n % GROUPS``, its round ``n // GROUPS``.

    Rounds go by threes: both alerts firing (a new episode), the first resolved, both resolved.
    The body is Alertmanager's webhook payload, version 4, field for field as its docs show it
    (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config), as the shared
    sample ``alertmanager/firing.json`` is.
    """
    group, round_ = n % GROUPS, n // GROUPS
    episode, phase = divmod(round_, 3)
    service = f"svc-{group % SERVICES:02d}"
    starts = STORY_START + episode * EPISODE + timedelta(seconds=7 * group)
    alerts = []
    for index in range(ALERTS_PER_GROUP):
        resolved = phase == 2 or (phase == 1 and index == 0)
        labels = {
            "alertname": f"HighErrorRate{group:02d}",
            "env": "prod",
            "instance": f"10.42.{group}.{index}:8080",
            "service": service,
            "severity": "critical" if group % 3 == 0 else "warning",
        }
        alerts.append(
            {
                "status": "resolved" if resolved else "firing",
                "labels": labels,
                "annotations": {"summary": f"{service} 5xx ratio above 5% (group {group})"},
                "startsAt": _iso(starts),
                "endsAt": _iso(starts + timedelta(minutes=5 + 5 * index))
                if resolved
                else "0001-01-01T00:00:00Z",
                "generatorURL": "http://prometheus.monitoring.svc:9090/graph?g0.expr=up",
                "fingerprint": f"{group:08x}{index:08x}",
            }
        )
    group_labels = {"alertname": f"HighErrorRate{group:02d}", "service": service}
    payload = {
        "receiver": "oncall-tui",
        "status": "resolved" if phase == 2 else "firing",
        "alerts": alerts,
        "groupLabels": group_labels,
        "commonLabels": {**group_labels, "env": "prod"},
        "commonAnnotations": {},
        "externalURL": "http://alertmanager.monitoring.svc:9093",
        "version": "4",
        "groupKey": f'{{}}:{{alertname="HighErrorRate{group:02d}", service="{service}"}}',
        "truncatedAlerts": 0,
    }
    return json.dumps(payload, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Delivery:
    """One webhook of the plan: ``POST /webhooks/{source}``."""

    source: str
    body: bytes
    headers: dict[str, str]
    to: tuple[int, ...] = (0, 1)
    """Which serves of the pair are sent it: Alertmanager's HA pair notifies both, any other
    sender reaches one of them through the load balancer."""


def alertmanager(n: int) -> Delivery:
    return Delivery("alertmanager", notification(n), HEADERS)


def deploy(k: int, sha: str) -> Delivery:
    """GitHub's ``deployment_status`` sample as deploy ``k`` of ``sha``, to serve ``k % 2``."""
    payload: dict[str, Any] = json.loads(
        sample("github/deployment_status_success.json").read_text()
    )
    at = (STORY_START + k * DEPLOY_EVERY).strftime("%Y-%m-%dT%H:%M:%SZ")
    payload["deployment"].update(sha=sha, id=1873421900 + k, created_at=at, updated_at=at)
    payload["deployment_status"].update(id=3951234800 + k, created_at=at, updated_at=at)
    headers = sample_headers("github/deployment_status_success.headers.json")
    # Its signatures were of the sample's bytes; this route has no secret on loopback.
    headers = {n: v for n, v in headers.items() if not n.lower().startswith("x-hub-signature")}
    headers["X-GitHub-Delivery"] = f"ha-deploy-{k:04d}"
    return Delivery("github", json.dumps(payload).encode(), headers, to=(k % 2,))


ALERTS_ONLY = [alertmanager(n) for n in range(NOTIFICATIONS)]


@dataclass
class Clone:
    """A local clone of the deployed repository: one commit per deploy, and the first one."""

    path: Path
    shas: list[str]

    def env(self) -> dict[str, str]:
        return {
            "ONCALL_TUI_REPOS__CLONES": json.dumps({DEPLOYED_REPO: str(self.path)}),
            "ONCALL_TUI_COMMITS__INTERVAL_S": str(COMMITS_INTERVAL_S),
        }


@pytest.fixture
def clone(tmp_path: Path) -> Clone:
    root = init_repo(tmp_path / "payments-api")
    shas = [
        commit(root, f"Release {k}", {"VERSION": f"{k}\n"}, at=_iso(STORY_START + k * DEPLOY_EVERY))
        for k in range(DEPLOYS + 1)
    ]
    return Clone(root, shas)


def with_deploys(clone: Clone) -> list[Delivery]:
    """The alerts, with a deploy of the next release every ``NOTIFICATIONS // DEPLOYS``."""
    plan = list(ALERTS_ONLY)
    every = NOTIFICATIONS // DEPLOYS
    for k in reversed(range(DEPLOYS)):
        plan.insert(every * k + every // 2, deploy(k, clone.shas[k + 1]))
    return plan


def serve_env(clone: Clone | None) -> dict[str, str]:
    return {
        "ONCALL_TUI_SOURCES__ALERTMANAGER__TOKEN": TOKEN,
        # The machine's own agent transcripts must not add sessions (and pushes) to the story.
        "ONCALL_TUI_DISCOVER__INTERVAL_S": "0",
        **(clone.env() if clone is not None else {}),
    }


@dataclass
class HaSend:
    """A plan sent to a pair of serves in ``LANES`` at once, each copy to its serves at once."""

    endpoints: list[Endpoint]
    plan: list[Delivery]
    answers: list[list[str]] = field(init=False)
    """``answers[serve][n]``: the status serve ``serve`` gave delivery ``n`` ("" unsent), or
    the error's name when no answer came."""
    errors: list[BaseException] = field(default_factory=list)
    _posted: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.answers = [[""] * len(self.plan) for _ in self.endpoints]

    def run(self, when_posted: Callable[[int], None] | None = None) -> None:
        """Send it all; ``when_posted(count)`` runs on this thread as POSTs complete."""
        threads = []
        for lane in range(LANES):
            mine = [n for n in range(len(self.plan)) if n % LANES == lane]
            together = threading.Barrier(len(self.endpoints), timeout=60)
            for serve in range(len(self.endpoints)):
                thread = threading.Thread(target=self._send, args=(serve, mine, together))
                threads.append(thread)
        for thread in threads:
            thread.start()
        seen = 0
        while any(t.is_alive() for t in threads):
            if when_posted is not None and self._posted != seen:
                seen = self._posted
                when_posted(seen)
            time.sleep(0.002)
        for thread in threads:
            thread.join()
        assert not self.errors, self.errors

    def _send(self, serve: int, mine: list[int], together: threading.Barrier) -> None:
        port = self.endpoints[serve].port
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
        try:
            for n in mine:
                # A delivery's copies leave together; the lane's next one only once both are
                # answered (or failed), as Alertmanager's pipeline notifies a group in order.
                together.wait()
                delivery = self.plan[n]
                if serve not in delivery.to:
                    continue
                path = f"/webhooks/{delivery.source}"
                status, _, conn = post_once(conn, port, path, delivery.body, delivery.headers)
                self.answers[serve][n] = status
                with self._lock:
                    self._posted += 1
        except BaseException as exc:  # reported by run(), on the test's thread
            self.errors.append(exc)
            together.abort()
        finally:
            conn.close()

    def acknowledged(self) -> set[bytes]:
        """The bodies some serve answered 2xx: those it promised were taken."""
        return {
            self.plan[n].body
            for n in range(len(self.plan))
            if any(answers[n].startswith("2") for answers in self.answers)
        }

    def acknowledgements(self) -> int:
        return sum(status.startswith("2") for answers in self.answers for status in answers)


def stored_bodies(endpoint: Endpoint) -> list[bytes]:
    return [bytes(body) for (body,) in endpoint.rows("SELECT body FROM deliveries ORDER BY id")]


def assert_each_stored_once(endpoint: Endpoint, expected: set[bytes]) -> None:
    assert (
        endpoint.rows(
            "SELECT source, delivery_key FROM deliveries GROUP BY source, delivery_key"
            " HAVING count(*) > 1"
        )
        == []
    )
    assert endpoint.rows("SELECT DISTINCT status FROM deliveries") == [("accepted",)]
    bodies = stored_bodies(endpoint)
    assert len(bodies) == len(expected)
    assert set(bodies) == expected


Projection = dict[str, list[tuple[Any, ...]]]


def projection(endpoint: Endpoint) -> Projection:
    """What the fold and the deploy resolution made, leaving out when rows were received (the
    serves' clock) and journal positions (a deploy range may be journaled between two folds)."""
    incidents = []
    for row in endpoint.rows(
        "SELECT id, number, state, severity_rank, service, data FROM incidents ORDER BY number"
    ):
        data = json.loads(row[-1])
        for folded_at in ("opened_at", "updated_at"):  # the serve's clock, when it folded
            data.pop(folded_at)
        incidents.append((*row[:-1], data))
    ranges = []
    for (data,) in endpoint.rows("SELECT data FROM deploy_ranges ORDER BY sha"):
        deploy = json.loads(data)
        del deploy["signal_id"]  # a journal position
        ranges.append(tuple(sorted(deploy.items())))
    return {
        "incidents": incidents,
        "signals": endpoint.rows(
            "SELECT incident_id, alert_key, status, occurred_at, count(*) FROM signals"
            " GROUP BY incident_id, alert_key, status, occurred_at ORDER BY 1, 2, 3, 4"
        ),
        "alerts": endpoint.rows(
            "SELECT alert_key, incident_id, status, status_at FROM alerts ORDER BY alert_key"
        ),
        "deploy_ranges": ranges,
        "journal": endpoint.rows("SELECT kind, count(*) FROM journal GROUP BY kind ORDER BY kind"),
    }


def fold_holder_pid(endpoint: Endpoint) -> int | None:
    rows = endpoint.rows("SELECT value FROM meta WHERE key = ?", (lease_key(FOLD_LEASE),))
    return int(json.loads(rows[0][0])["pid"]) if rows else None


def wait_for(what: str, done: Callable[[], bool], timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while not done():
        assert time.monotonic() < deadline, f"{what}: not within {timeout_s} s"
        time.sleep(0.02)


def settled(endpoint: Endpoint, serves: list[ServeProcess], deploys: int) -> None:
    """Wait for the fold and the deploy ranges, then stop the serves cleanly: a round of
    resolution still under way finishes before they exit, so the projection read is final."""
    endpoint.folded(FOLD_TIMEOUT_S)
    wait_for(
        "the deploy ranges are resolved",
        lambda: endpoint.rows("SELECT count(*) FROM deploy_ranges") == [(deploys,)],
        FOLD_TIMEOUT_S,
    )
    for serve in serves:
        if serve.process.poll() is None:
            assert serve.terminate() == 0, serve.stderr.read_text()[-2000:]


@pytest.fixture
def single_receiver(
    serve_process: ServeFactory, pg_url: Callable[[], str]
) -> Callable[[list[Delivery], dict[str, str]], Projection]:
    """What one serve (with ``env``) on a fresh schema makes of ``deliveries``, sent one by one
    in order."""

    def run(deliveries: list[Delivery], env: dict[str, str]) -> Projection:
        alone = serve_process(pg_url(), env_extra=env)
        port = alone.endpoint.port
        conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
        try:
            for delivery in deliveries:
                path = f"/webhooks/{delivery.source}"
                status, answer, conn = post_once(conn, port, path, delivery.body, delivery.headers)
                assert status == "202", (status, answer)
        finally:
            conn.close()
        deploys = sum(d.source == "github" for d in deliveries)
        settled(alone.endpoint, [alone], deploys)
        assert_each_stored_once(alone.endpoint, {d.body for d in deliveries})
        return projection(alone.endpoint)

    return run


def start_pair(serve_process: ServeFactory, url: str, env: dict[str, str]) -> list[ServeProcess]:
    """Two serves on one new schema, started at once (as a deployment starts its replicas): both
    find it empty, one creates the store, and each takes its part."""
    with ThreadPoolExecutor(2) as pool:
        starting = [pool.submit(serve_process, url, env_extra=env) for _ in range(2)]
        return [serve.result() for serve in starting]


def in_stored_order(endpoint: Endpoint, plan: list[Delivery]) -> list[Delivery]:
    by_body = {delivery.body: delivery for delivery in plan}
    return [by_body[body] for body in stored_bodies(endpoint)]


def test_two_serves_store_each_ha_copy_once_and_fold_as_one_receiver(
    serve_process: ServeFactory,
    pg_url: Callable[[], str],
    clone: Clone,
    single_receiver: Callable[[list[Delivery], dict[str, str]], Projection],
) -> None:
    env = serve_env(clone)
    pair = start_pair(serve_process, pg_url(), env)
    endpoint = pair[0].endpoint
    plan = with_deploys(clone)
    sending = HaSend([serve.endpoint for serve in pair], plan)
    sending.run()

    for serve, answers in enumerate(sending.answers):
        sent = [answers[n] for n, delivery in enumerate(plan) if serve in delivery.to]
        assert set(sent) == {"202"}, f"serve {serve}: {sorted(set(sent))}"
    assert fold_holder_pid(endpoint) in {serve.process.pid for serve in pair}
    settled(endpoint, pair, DEPLOYS)
    assert_each_stored_once(endpoint, {delivery.body for delivery in plan})
    # Every copy reached the store: the first stored it, the other counted a second attempt.
    attempts = endpoint.rows("SELECT source, attempts, count(*) FROM deliveries GROUP BY 1, 2")
    assert sorted(attempts) == [("alertmanager", 2, NOTIFICATIONS), ("github", 1, DEPLOYS)]

    alone = single_receiver(in_stored_order(endpoint, plan), env)
    assert projection(endpoint) == alone
    assert len(alone["incidents"]) > SERVICES and len(alone["deploy_ranges"]) == DEPLOYS


def test_sigkill_of_the_folder_mid_burst_loses_no_acknowledged_delivery(
    serve_process: ServeFactory,
    pg_url: Callable[[], str],
    single_receiver: Callable[[list[Delivery], dict[str, str]], Projection],
) -> None:
    env = serve_env(None)
    pair = start_pair(serve_process, pg_url(), env)
    endpoint = pair[0].endpoint
    pids = [serve.process.pid for serve in pair]
    killed: list[int] = []
    takeover: list[float] = []  # seconds from the kill until the survivor held the fold lease
    watching: list[threading.Thread] = []

    def watch_the_lease(survivor: ServeProcess, killed_at: float) -> None:
        while time.monotonic() < killed_at + TAKEOVER_S:
            if fold_holder_pid(survivor.endpoint) == survivor.process.pid:
                takeover.append(time.monotonic() - killed_at)
                return
            time.sleep(0.05)

    def kill_the_folder(posted: int) -> None:
        if posted < 2 * KILL_AFTER or killed:
            return
        holder = fold_holder_pid(endpoint)
        assert holder in pids, f"the fold lease is {holder}'s, not a serve's of {pids}"
        victim = pids.index(holder)
        pair[victim].kill()  # SIGKILL, then reaped: its pid is gone
        killed.append(victim)
        watcher = threading.Thread(
            target=watch_the_lease, args=(pair[1 - victim], time.monotonic())
        )
        watcher.start()
        watching.append(watcher)

    sending = HaSend([serve.endpoint for serve in pair], ALERTS_ONLY)
    sending.run(when_posted=kill_the_folder)
    assert killed, "the burst ended before the folder was killed"
    dead = killed[0]
    survivor = pair[1 - dead]
    watching[0].join()

    assert set(sending.answers[1 - dead]) == {"202"}
    unanswered = [n for n, status in enumerate(sending.answers[dead]) if not status.isdigit()]
    assert len(unanswered) >= NOTIFICATIONS // 2, "not killed mid-burst"
    assert takeover, f"the survivor did not take the fold lease within {TAKEOVER_S} s"
    settled(survivor.endpoint, [survivor], 0)

    acknowledged = sending.acknowledged()
    assert acknowledged == {delivery.body for delivery in ALERTS_ONLY}  # the survivor's 202s
    assert_each_stored_once(survivor.endpoint, acknowledged)
    # Every 2xx, the dead one's too, is a committed row or a counted second attempt of one.
    (stored_attempts,) = survivor.endpoint.rows("SELECT sum(attempts) FROM deliveries")[0]
    assert int(stored_attempts) >= sending.acknowledgements()
    alone = single_receiver(in_stored_order(survivor.endpoint, ALERTS_ONLY), env)
    assert projection(survivor.endpoint) == alone
