"""No command prints sender text raw: the bytes every command writes to a real terminal.

Hostile text is planted in every sender field of real-format payloads (and in what agents and
catalogs give us), taken in through the real receiver, then each command that prints stored
text runs as the installed ``oncall-tui`` on a pseudo-terminal of its own. Text output is
sanitised like the dashboard's; JSON escapes what it keeps (``\\u001b``), so tools still get the
text exactly as it was sent.
"""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from oncall_tui.actions.notes import add_note
from oncall_tui.core.agents import NoteKind
from oncall_tui.store import deliveries
from oncall_tui.store.journal import Store
from tests.integration.conftest import Endpoint, ReceiverFactory
from tests.support.samples import SAMPLES, sample_headers

MARKER = "hostile-marker"
HOSTILE = (
    f" {MARKER} \x1b]52;c;ZXZpbA==\x07 \x1b]0;pwned\x07"
    " \x1b]8;;https://evil.example\x1b\\click me\x1b]8;;\x1b\\ \x1b[2J \x9b6n \x9d0;c1-osc\x07"
    " \u202eevil\u202c [/] [link=https://evil.example]x[/link] [bold red]RESOLVED[/]"
)
FORBIDDEN = {
    "OSC (title, clipboard, hyperlink)": b"\x1b]",
    "clear screen": b"\x1b[2J",
    "C1 CSI": b"\x9b",
    "C1 OSC": b"\x9d",
    "bidi override": "\u202e".encode(),
}
STRUCTURAL = frozenset(
    {
        # What a sender's adapter reads as a value of a closed set, a time or a type: planting
        # there would only get the delivery refused, so nothing would be stored to print.
        *("status", "state", "startsAt", "endsAt", "event_type", "resource_type", "type"),
        *("event_action", "severity", "timestamp", "time", "occurred_at", "created_at"),
        *("updated_at", "specversion", "alert_transition", "date", "last_updated", "version"),
        *("routing_key", "urgency", "priority"),
        # The service stays matchable, so the catalog, sessions and pushes come into play.
        "service",
    }
)
PAYLOADS = [
    ("alertmanager", "alertmanager/firing.json"),
    ("grafana", "grafana/firing.json"),
    ("pagerduty", "pagerduty/triggered.json"),
    ("datadog", "datadog/triggered.json"),
    ("events-v2", "events-v2/trigger.json"),
    ("events-v2", "events-v2/change_deploy.json"),
    ("github", "github/deployment_status_success.json"),
    ("cloudevents", "cloudevents/breaker_opened.json"),
]
ENTRY_POINT = Path(sys.executable).with_name("oncall-tui")


def planted(value: Any, key: str = "") -> Any:
    """``value`` with the hostile corpus appended to every string a sender chose."""
    if isinstance(value, dict):
        return {k: planted(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [planted(item, key) for item in value]
    if isinstance(value, str) and key not in STRUCTURAL:
        return value + HOSTILE
    return value


def run_on_a_terminal(*args: str, timeout_s: float = 60) -> bytes:
    """Everything ``oncall-tui ARGS`` writes to its terminal (stdout and stderr alike)."""
    master, slave = os.openpty()
    try:
        process = subprocess.Popen(
            [str(ENTRY_POINT), *args],
            stdin=slave,
            stdout=slave,
            stderr=slave,
            env={**os.environ, "TERM": "xterm-256color"},
        )
    finally:
        os.close(slave)
    output = bytearray()
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if select.select([master], [], [], 0.1)[0]:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the command exited and its side of the terminal closed
                    break
                if not chunk:
                    break
                output += chunk
            elif process.poll() is not None:
                break
        else:
            pytest.fail(f"oncall-tui {' '.join(args)} did not finish: {bytes(output)[-500:]!r}")
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(10)
        os.close(master)
    return bytes(output)


def assert_clean(command: list[str], output: bytes) -> None:
    for what, sequence in FORBIDDEN.items():
        assert sequence not in output, f"{what} reached the terminal from {' '.join(command)}"


def seed_hostile_store(endpoint: Endpoint, tmp_path: Path) -> list[str]:
    """Every kind of stored sender text, taken in the way it arrives; returns incident ids."""
    for source, relative in PAYLOADS:
        body = json.dumps(planted(json.loads((SAMPLES / relative).read_text()))).encode()
        headers_file = SAMPLES / relative.replace(".json", ".headers.json")
        headers = (
            sample_headers(headers_file.relative_to(SAMPLES).as_posix())
            if headers_file.exists()
            else {}
        )
        if source == "github":
            headers = {**headers, "X-GitHub-Event": "deployment_status"}
        reply = endpoint.post(source, body, headers)
        assert reply.status == 202, (relative, reply.body)
    service_named_by_a_sender = json.loads((SAMPLES / "events-v2/trigger.json").read_text())
    service_named_by_a_sender["dedup_key"] = "hostile-service"
    service_named_by_a_sender["payload"]["custom_details"]["service"] = f"checkout{HOSTILE}"
    reply = endpoint.post("events-v2", json.dumps(service_named_by_a_sender).encode())
    assert reply.status == 202, reply.body
    # A source segment that names no source: refused, and listed by ``deliveries --rejected``.
    reply = endpoint.post(quote(f"nagios{HOSTILE}".replace("/", ""), safe=""), b"{}")
    assert reply.status == 404, reply.body
    session = {
        "id": "s-hostile",
        "agent": "claude-code",
        "repo": f"acme-payments/payments-api{HOSTILE}",
        "cwd": f"/work/payments{HOSTILE}",
        "branch": f"fix{HOSTILE}",
        "task": f"Tune retries{HOSTILE}",
        "paths": ["services/processor/retry.py", f"services/processor/x{HOSTILE}.py"],
    }
    reply = endpoint.request(
        "POST", "/sessions", json.dumps(session).encode(), {"Content-Type": "application/json"}
    )
    assert reply.status == 201, reply.body
    endpoint.folded()

    store = Store.open(endpoint.db)
    add_note(  # what an agent tells us about the code it works on, through MCP
        store,
        author="agent:s-hostile",
        kind=NoteKind.WARNING,
        text=f"Do not remove the timeout{HOSTILE}",
        service=f"payment-processor{HOSTILE}",
        rationale=f"breaker{HOSTILE}",
        paths=[f"services/processor/gone{HOSTILE}.py"],
        repo_root=str(tmp_path),
        agent_authored=True,
    )
    store.close()
    rows = endpoint.rows("SELECT id FROM incidents ORDER BY id")
    return [str(row[0]) for row in rows]


def hostile_catalog(tmp_path: Path) -> Path:
    escaped = json.dumps(HOSTILE)[1:-1]  # YAML double-quoted strings take JSON's escapes
    path = tmp_path / "catalog.yaml"
    path.write_text(
        (SAMPLES / "catalog.yaml").read_text()
        + f'  "evil{escaped}":\n'
        + f'    repo: "acme/evil{escaped}"\n'
        + f'    paths: ["evil/{escaped}/**"]\n'
        + '    depends_on: ["payment-processor"]\n'
    )
    return path


def test_no_command_writes_sender_escapes_to_the_terminal(
    receiver: ReceiverFactory, tmp_path: Path
) -> None:
    assert ENTRY_POINT.exists(), f"the oncall-tui entry point is installed ({ENTRY_POINT})"
    endpoint = receiver()
    db = str(endpoint.db)
    loaded = run_on_a_terminal("--db", db, "catalog", "load", str(hostile_catalog(tmp_path)))
    assert b"loaded" in loaded, loaded
    incidents = seed_hostile_store(endpoint, tmp_path)
    assert len(incidents) >= 3
    unparsable = tmp_path / "unparsable.json"
    unparsable.write_text(json.dumps({"event": {"id": "e-1", "event_type": f"x{HOSTILE}"}}))

    showing_sender_text = [
        ["deliveries", "--rejected"],
        ["deliveries", "--rejected", "--json"],
        ["deliveries", "--json"],
        ["incidents", "--all"],
        ["incidents", "--all", "--json"],
        *(["incident", "show", i] for i in incidents),
        *(["incident", "show", i, "--json"] for i in incidents),
        ["sessions", "list", "--all"],
        ["sessions", "list", "--all", "--json"],
        ["notes", "list", "--all"],
        ["notes", "list", "--all", "--json"],
        ["context", "s-hostile"],
        ["context", "s-hostile", "--format", "json"],
        ["timeline", incidents[0]],
        ["timeline", incidents[0], "--format", "json"],
        ["timeline", incidents[0], "--format", "html"],
        ["catalog", "show"],
        ["catalog", "show", "--json"],
        ["ingest", "pagerduty", str(unparsable)],
    ]
    maybe_showing = [
        ["deliveries"],
        ["pushes"],
        ["pushes", "--json"],
        ["export", "--dir", str(tmp_path / "context")],
        ["config", "show"],
    ]
    for command in showing_sender_text + maybe_showing:
        output = run_on_a_terminal("--db", db, *command)
        assert b"Traceback" not in output, (command, output[-2000:])
        assert_clean(command, output)
        if command in showing_sender_text:
            assert MARKER.encode() in output, f"{' '.join(command)} printed the planted text"


def test_the_command_line_sanitises_even_what_was_stored_raw(tmp_path: Path) -> None:
    """Whatever the receiver stores, the listing is the terminal's own line of defence."""
    db = tmp_path / "raw.db"
    store = Store.open(db)
    with store.write() as writer:
        deliveries.insert(
            writer.conn,
            source=f"nagios{HOSTILE}",
            delivery_key=None,
            received_at=datetime(2026, 11, 23, 12, 0, tzinfo=UTC),
            headers={"user-agent": f"curl{HOSTILE}"},
            body=b"{}",
            status="rejected",
            http_status=404,
            reason=f"unknown source{HOSTILE}",
        )
    store.close()
    for command in (["deliveries", "--rejected"], ["deliveries", "--rejected", "--json"]):
        output = run_on_a_terminal("--db", str(db), *command)
        assert MARKER.encode() in output, output
        assert_clean(command, output)
