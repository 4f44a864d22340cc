"""The sessions routes (DESIGN §5) over a real uvicorn server on loopback and a DB on disk.

Agents without hooks register, heartbeat and read their context over HTTP; each test pins the
status code, the body and the row it leaves (or must not leave) in the DB.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette

from oncall_tui.actions import Rules
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.pushes import approve
from oncall_tui.config import Settings
from oncall_tui.core.clock import SystemClock
from oncall_tui.ingest.record import Ingestor
from oncall_tui.server.sessions_routes import routes
from oncall_tui.store.journal import Store
from tests.support.loopback_server import LoopbackServer, serve_on_loopback
from tests.support.receiver_http import Reply, request
from tests.support.samples import sample

SESSION = "codex-7f3a"
TOKEN = "sessions-test-token"
REGISTER = {
    "id": SESSION,
    "agent": "codex",
    "repo": "acme-payments/payments-api",
    "cwd": "/work/payments-api",
    "branch": "main",
    "task": "tune retries",
    "paths": ["services/payments/client.py"],
}


@dataclass
class Api:
    port: int
    db: Path

    def request(
        self,
        method: str,
        path: str,
        body: object = None,
        headers: dict[str, str] | None = None,
        raw: bytes | None = None,
    ) -> Reply:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        return request(
            self.port, method, path, data, {"Content-Type": "application/json", **(headers or {})}
        )

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        with closing(sqlite3.connect(self.db, timeout=10)) as conn:
            return conn.execute(sql).fetchall()


ApiFactory = Callable[..., Api]


@pytest.fixture
def api(tmp_path: Path) -> Iterator[ApiFactory]:
    """``api(host=..., sources=..., max_body_bytes=...)``: the routes in a small Starlette app.

    ``host`` only sets what the routes believe they are bound to; the socket is always loopback.
    """
    servers: list[LoopbackServer] = []

    def start(
        *,
        host: str = "127.0.0.1",
        sources: dict[str, dict[str, str]] | None = None,
        max_body_bytes: int = 1_048_576,
    ) -> Api:
        db = tmp_path / "sessions.db"
        settings = Settings(
            db=db, server={"host": host, "max_body_bytes": max_body_bytes}, sources=sources or {}
        )
        Store.open(db).close()  # an existing, migrated DB, as ``serve`` leaves it
        served = serve_on_loopback(Starlette(routes=routes(settings, SystemClock())))
        servers.append(served)
        return Api(served.port, db)

    yield start
    for served in servers:
        served.stop()


def incident_for(api: Api) -> None:
    """The sample catalog and Alertmanager alert: the registered session becomes affected, and
    its push is approved so its context names the incident."""
    rules = Rules()
    store = Store.open(api.db, SystemClock())
    try:
        load_catalog_file(store, rules, sample("catalog.yaml"), "user:alice")
        body = sample("alertmanager/firing.json").read_bytes()
        Ingestor(store, Settings(db=api.db)).ingest("alertmanager", body, {}, verify="none")
        for (push_id,) in store.conn.execute("SELECT id FROM pushes WHERE state = 'pending'"):
            approve(store, push_id, "user:alice", rules)
    finally:
        store.close()


# --- register and heartbeat -----------------------------------------------------------------


def test_post_sessions_registers_and_answers_201_with_the_session(api: ApiFactory) -> None:
    endpoint = api()

    reply = endpoint.request("POST", "/sessions", REGISTER)

    assert reply.status == 201, reply.body
    session = reply.json
    assert (session["id"], session["agent"], session["repo"]) == (
        SESSION,
        "codex",
        REGISTER["repo"],
    )
    assert session["paths"] == ["services/payments/client.py"]
    assert endpoint.rows("SELECT id, repo FROM sessions") == [(SESSION, REGISTER["repo"])]
    assert endpoint.rows("SELECT actor FROM journal WHERE kind = 'session.registered'") == [
        (f"agent:{SESSION}",)
    ]


def test_heartbeat_adds_paths_and_answers_200(api: ApiFactory) -> None:
    endpoint = api()
    endpoint.request("POST", "/sessions", REGISTER)

    reply = endpoint.request(
        "POST",
        f"/sessions/{SESSION}/heartbeat",
        {"paths": ["services/ledger/post.py"], "branch": "retry-tuning"},
    )
    bare = endpoint.request("POST", f"/sessions/{SESSION}/heartbeat", raw=b"")

    assert reply.status == 200, reply.body
    assert reply.json["paths"] == ["services/payments/client.py", "services/ledger/post.py"]
    assert reply.json["branch"] == "retry-tuning"
    assert bare.status == 200, bare.body


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        ("/sessions", {**REGISTER, "id": "../etc/passwd"}, 400),
        ("/sessions", {**REGISTER, "id": "a..b"}, 400),
        ("/sessions", {**REGISTER, "agent": "vim"}, 400),
        ("/sessions", {**REGISTER, "path": ["typo.py"]}, 400),
        ("/sessions", {**REGISTER, "paths": "services/x.py"}, 400),
        ("/sessions", {"agent": "codex"}, 400),
        ("/sessions", [REGISTER], 400),
        (f"/sessions/{SESSION}/heartbeat", {"paths": [1, 2]}, 400),
        ("/sessions/a..b/heartbeat", {}, 400),
        ("/sessions/nobody/heartbeat", {}, 404),
    ],
)
def test_invalid_requests_are_refused_and_change_nothing(
    api: ApiFactory, path: str, body: object, status: int
) -> None:
    endpoint = api()
    endpoint.request("POST", "/sessions", REGISTER)
    before = endpoint.rows("SELECT count(*) FROM journal")

    reply = endpoint.request("POST", path, body)

    assert reply.status == status, reply.body
    assert "error" in reply.json
    assert endpoint.rows("SELECT count(*) FROM journal") == before


def test_a_body_that_is_not_json_is_400(api: ApiFactory) -> None:
    reply = api().request("POST", "/sessions", raw=b"{not json")

    assert (reply.status, reply.json["error"]) == (400, "invalid body: not JSON")


def test_a_body_over_the_limit_is_413(api: ApiFactory) -> None:
    endpoint = api(max_body_bytes=256)

    reply = endpoint.request("POST", "/sessions", {**REGISTER, "task": "x" * 1000})

    assert reply.status == 413
    assert endpoint.rows("SELECT count(*) FROM sessions") == [(0,)]


# --- context --------------------------------------------------------------------------------


def test_context_as_markdown_names_the_incident(api: ApiFactory) -> None:
    endpoint = api()
    endpoint.request("POST", "/sessions", REGISTER)
    incident_for(endpoint)
    delivered_before = endpoint.rows(
        "SELECT count(*) FROM journal WHERE kind = 'context.delivered'"
    )

    reply = endpoint.request("GET", f"/sessions/{SESSION}/context")

    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "text/markdown; charset=utf-8"
    text = reply.body.decode()
    assert text.startswith(f"# Production context for session {SESSION}")
    assert "INC-1" in text and "payment-processor" in text
    # Reading is not delivering: a GET may be repeated or prefetched.
    assert (
        endpoint.rows("SELECT count(*) FROM journal WHERE kind = 'context.delivered'")
        == delivered_before
    )


def test_context_as_json_follows_the_published_schema(api: ApiFactory) -> None:
    endpoint = api()
    endpoint.request("POST", "/sessions", REGISTER)
    incident_for(endpoint)

    reply = endpoint.request("GET", f"/sessions/{SESSION}/context?format=json")

    assert reply.status == 200, reply.body
    assert reply.headers["content-type"] == "application/json"
    document = reply.json
    assert document["schema"] == "1"
    assert document["session"]["id"] == SESSION
    assert [i["id"] for i in document["incidents"]] == ["INC-1"]


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/sessions/nobody/context", 404),
        ("/sessions/a..b/context", 400),
        (f"/sessions/{SESSION}/context?format=html", 400),
    ],
)
def test_context_errors(api: ApiFactory, path: str, status: int) -> None:
    endpoint = api()
    endpoint.request("POST", "/sessions", REGISTER)

    assert endpoint.request("GET", path).status == status


# --- credentials off loopback ---------------------------------------------------------------


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Bearer wrong"}, 401),
        ({"Authorization": f"Bearer {TOKEN}"}, 201),
        ({"Authorization": basic("am", "pw")}, 201),
        ({"Authorization": basic("am", "nope")}, 401),
    ],
)
def test_off_loopback_a_source_credential_is_required(
    api: ApiFactory, headers: dict[str, str], status: int
) -> None:
    sources = {
        "alertmanager": {"token": TOKEN},
        "datadog": {"basic_user": "am", "basic_password": "pw"},
    }
    endpoint = api(host="0.0.0.0", sources=sources)

    reply = endpoint.request("POST", "/sessions", REGISTER, headers=headers)

    assert reply.status == status, reply.body
    assert endpoint.rows("SELECT count(*) FROM sessions") == [(1 if status == 201 else 0,)]


def test_off_loopback_without_any_token_configured_everything_is_refused(api: ApiFactory) -> None:
    endpoint = api(host="0.0.0.0", sources={"pagerduty": {"secret": "hmac-only"}})

    assert endpoint.request("POST", "/sessions", REGISTER).status == 403
    assert endpoint.request("GET", f"/sessions/{SESSION}/context").status == 403
