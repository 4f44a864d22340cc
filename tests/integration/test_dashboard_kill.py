"""SIGKILL the dashboard (``oncall-tui --serve``) while it receives, exports and acts on keys.

The dashboard runs in a pseudo-terminal like an engineer's: its receiver takes deliveries from
a sender thread, its exporter writes the context files, and keys that change state (approve,
acknowledge, mitigate, resolve) arrive at random moments before a SIGKILL. After every kill:
every delivery answered 2xx is stored, the DB is sound, every context file on disk is complete
(a reader finds no torn file and no temp file under a live name), and the dashboard starts again
on the same DB and reaches its first screen. At the end, the last start folds everything that
was acknowledged but not folded, removes stray temp files, and quits cleanly on ``q``.
"""

from __future__ import annotations

import fcntl
import http.client
import json
import os
import random
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import threading
import time
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from oncall_tui.actions import Rules
from oncall_tui.actions.catalog import load_catalog_file
from oncall_tui.actions.sessions import register
from oncall_tui.agents.export.atomic import is_temp_name
from oncall_tui.agents.export.sync import CONTEXT_JSON, CONTEXT_MD, INDEX_MD, LOCK, REPO_ROOTS
from oncall_tui.config import Settings
from oncall_tui.core.context import render
from oncall_tui.core.context.schema import ContextDocument
from oncall_tui.store.journal import Store
from tests.integration.faults_common import (
    all_folded,
    integrity,
    pagerduty_event,
    pagerduty_key,
    read_db,
    unstored,
    wait_for,
)
from tests.support.environment import without_our_variables
from tests.support.receiver_http import LOOPBACK, post_once, with_json_type
from tests.support.samples import SAMPLES, sample

ROWS, COLS = 48, 160
START_TIMEOUT_S = 40.0
"""From exec to the first screen; a loaded 2-core machine takes a few seconds."""
FIRST_SCREEN = re.compile(rb"receiving (?:on 127\.0\.0\.1)?:(\d+)\D")
"""The status bar of the main screen, once the receiver is up (the port is chosen at start;
the address gives way when the header is short of room)."""
SESSIONS = {
    "agent-processor": "services/processor/retry.py",
    "agent-payments": "services/payments/client.py",
    "agent-checkout": "web/cart.py",
}
SERVICES = ["payment-processor", "payments-api", "checkout", "ledger"]
KEYS = [b"a", b"a", b"a", b"A", b"M", b"R", b"s", b"\x1b[B", b"\x1b[A", b"\t"]
"""Approve (most often), acknowledge, mitigate, resolve, all/one, cursor moves, next pane.
Nothing that opens a dialog: a modal would swallow the keys that follow."""
SEND_PAUSE_S = 0.01


class Dashboard:
    """``python -m oncall_tui --serve`` on a pty of its own, its output read continuously."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLS, 0, 0))
        try:
            # Textual draws on stderr, reads keys on stdin: all three are the terminal.
            self.process = subprocess.Popen(
                argv, stdin=slave, stdout=slave, stderr=slave, env=env, start_new_session=True
            )
        finally:
            os.close(slave)
        self._master = master
        self._output = bytearray()
        self._lock = threading.Lock()
        self._stop_reading = threading.Event()
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        while not self._stop_reading.is_set():
            if not select.select([self._master], [], [], 0.1)[0]:
                continue
            try:
                chunk = os.read(self._master, 65536)
            except OSError:  # EIO: the last holder of the terminal's other side is gone
                return
            if not chunk:
                return
            with self._lock:
                self._output += chunk

    def screen_text(self) -> str:
        """What was drawn so far, escape sequences removed (for failure messages)."""
        with self._lock:
            raw = bytes(self._output)
        text = re.sub(rb"\x1b\[[0-9;?<>=$]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(\x07|\x1b\\)", b"", raw)
        return text.decode(errors="replace")

    def wait_for_first_screen(self, timeout_s: float = START_TIMEOUT_S) -> int:
        """The receiver's port, once the main screen shows it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            with self._lock:
                found = FIRST_SCREEN.search(self._output)
            if found:
                return int(found.group(1))
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise AssertionError(
            f"the dashboard did not reach its first screen (exit {self.process.poll()}):\n"
            f"{self.screen_text()[-3000:]}"
        )

    def raw(self) -> bytes:
        """Every byte written to the terminal so far, escape sequences included."""
        with self._lock:
            return bytes(self._output)

    def press(self, key: bytes) -> None:
        os.write(self._master, key)

    def hang_up(self) -> None:
        """Close our side of the terminal, as a terminal emulator that quits does."""
        self._stop_reading.set()
        self._pump.join(10)
        os.close(self._master)
        self._master = -1

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(20)

    def close(self) -> None:
        if self.process.poll() is None:
            self.kill()
        self._stop_reading.set()
        self._pump.join(10)
        if self._master >= 0:
            os.close(self._master)
        with self._lock:
            self._output = bytearray()  # many kills in one test: keep only what is running


class Sender(threading.Thread):
    """Distinct deliveries over one keep-alive connection until stopped or the server dies."""

    def __init__(self, port: int, prefix: str) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.prefix = prefix
        self.events = json.loads(sample("events-v2/trigger.json").read_text())
        self.acked: dict[int, str] = {}
        """Delivery id a 2xx named → the delivery key (PagerDuty) or source sent."""
        self.refused: list[tuple[int, bytes]] = []
        self.halt = threading.Event()

    def delivery(self, n: int) -> tuple[str, bytes, dict[str, str], str]:
        if n % 8 == 7:  # now and then an alert on another service: new incidents, new pushes
            event = json.loads(json.dumps(self.events))
            service = SERVICES[(n // 8) % len(SERVICES)]
            event["dedup_key"] = f"{self.prefix}-{n}"
            event["payload"]["summary"] = f"{service} error rate high ({self.prefix}-{n})"
            event["payload"]["custom_details"]["service"] = service
            return "events-v2", json.dumps(event).encode(), {}, "events-v2"
        webhook_id = f"{self.prefix}-{n}"
        headers = {"X-Webhook-Id": webhook_id}
        return "pagerduty", pagerduty_event(webhook_id), headers, pagerduty_key(webhook_id)

    def run(self) -> None:
        conn = http.client.HTTPConnection(LOOPBACK, self.port, timeout=30)
        try:
            n = 0
            while not self.halt.is_set():
                source, body, headers, expected = self.delivery(n)
                path = f"/webhooks/{source}"
                status, data, conn = post_once(conn, self.port, path, body, with_json_type(headers))
                if not status.isdigit():
                    return  # killed: whatever was in flight got no answer, so no promise
                if 200 <= int(status) < 300:
                    self.acked[int(json.loads(data)["delivery_id"])] = expected
                else:
                    self.refused.append((int(status), data[:300]))
                n += 1
                self.halt.wait(SEND_PAUSE_S)
        finally:
            conn.close()

    def wait_for_acks(self, count: int, timeout_s: float = 30) -> None:
        wait_for(
            lambda: len(self.acked) >= count or not self.is_alive(),
            timeout_s=timeout_s,
            what=f"{count} deliveries acknowledged",
        )
        assert len(self.acked) >= count, f"the sender stopped: {self.refused[:3]}"

    def finish(self) -> None:
        self.halt.set()
        self.join(40)
        assert not self.is_alive(), "the sender hangs"


def check_context_files(root: Path) -> int:
    """Every file a reader may open is complete; returns how many temp files were left."""
    strays = 0
    for path in sorted(root.rglob("*")):
        if path.is_dir():
            continue
        name = path.name
        if is_temp_name(name):  # hidden and *.tmp: no reader opens it
            strays += 1
            continue
        data = path.read_bytes()
        if name == CONTEXT_MD:
            assert data.endswith(b"\n"), f"torn {path}"
            assert render.parse_markdown_check(data.decode()) == [], path
            assert data.decode().split("\n", 1)[0] == render.TITLE_PREFIX + path.parent.name
        elif name == CONTEXT_JSON:
            document = ContextDocument.model_validate_json(data)
            assert document.session.id == path.parent.name, path
        elif name == INDEX_MD:
            assert data.startswith(b"# Production context (oncall-tui)\n"), path
            assert b"\n## Broadcasts\n" in data and data.endswith(b"\n"), f"torn {path}"
        elif name == REPO_ROOTS:
            json.loads(data)
        else:
            assert name == LOCK, f"a file no exporter writes: {path}"
    return strays


@pytest.fixture
def dashboards() -> Iterator[list[Dashboard]]:
    started: list[Dashboard] = []
    yield started
    for dashboard in started:
        dashboard.close()


def seed(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A DB with the demo catalog and three agent sessions, and the dashboard's config."""
    db = tmp_path / "oncall.db"
    export_dir = tmp_path / "context"
    config = tmp_path / "config.toml"
    config.write_text(
        "[server]\n"
        'host = "127.0.0.1"\n'
        "port = 0\n"
        "[export]\n"
        f"dir = {json.dumps(str(export_dir))}\n"
        "[policy]\n"
        'mode = "approve"\n'
        'auto_approve = ["stand-down"]\n'
        "[ui]\n"
        "poll_interval_s = 0.2\n"
    )
    settings = Settings(db=db, export={"dir": export_dir})
    store = Store.open(db)  # the system clock, as the dashboard's: the sessions are fresh
    with closing(store.conn):
        rules = Rules.from_settings(settings)
        load_catalog_file(store, rules, SAMPLES / "catalog.yaml", "test")
        for session_id, path in SESSIONS.items():
            register(store, rules, session_id, paths=[path])
    return db, export_dir, config


def command(tmp_path: Path, db: Path, config: Path) -> tuple[list[str], dict[str, str]]:
    """How the dashboard is started: ``--serve`` on the seeded DB, in an isolated environment."""
    env = without_our_variables()
    env.update(
        TERM="xterm-256color",
        COLUMNS=str(COLS),
        LINES=str(ROWS),
        XDG_CONFIG_HOME=str(tmp_path / "xdg-config"),
        XDG_STATE_HOME=str(tmp_path / "xdg-state"),
        XDG_DATA_HOME=str(tmp_path / "xdg-data"),
    )
    argv = [sys.executable, "-m", "oncall_tui", "--db", str(db), "--config", str(config), "--serve"]
    return argv, env


def kill_and_restart(
    tmp_path: Path, dashboards: list[Dashboard], iterations: int, seed_value: int
) -> None:
    db, export_dir, config = seed(tmp_path)
    argv, env = command(tmp_path, db, config)

    def start() -> tuple[Dashboard, int]:
        dashboard = Dashboard(argv, env)
        dashboards.append(dashboard)
        return dashboard, dashboard.wait_for_first_screen()

    rng = random.Random(seed_value)
    acked: dict[int, str] = {}
    strays = 0
    dashboard, port = start()
    for iteration in range(iterations):
        where = f"seed {seed_value}, iteration {iteration}"
        sender = Sender(port, f"kill{iteration}")
        sender.start()
        sender.wait_for_acks(3)
        window = rng.uniform(0.3, 2.0)
        presses = sorted(
            (rng.uniform(0, window), rng.choice(KEYS)) for _ in range(rng.randint(1, 4))
        )
        began = time.monotonic()
        for at, key in presses:
            time.sleep(max(0.0, began + at - time.monotonic()))
            dashboard.press(key)
        time.sleep(max(0.0, began + window - time.monotonic()))
        dashboard.kill()
        sender.finish()
        acked |= sender.acked

        assert {status for status, _ in sender.refused} <= {503}, f"{where}: {sender.refused[:3]}"
        assert integrity(db) == [("ok",)], where
        assert unstored(db, acked) == {}, f"{where}: acknowledged but not stored"
        strays += check_context_files(export_dir)
        dashboard, port = start()  # the next start on the same DB reaches its first screen

    assert len(acked) >= 3 * iterations
    if iterations >= 20:  # over many kills, some of the keys must have landed and acted
        acted = read_db(db, "SELECT count(*) FROM journal WHERE actor LIKE 'user:%'")
        assert acted[0][0] > 0, "no key press changed anything"
    wait_for(
        lambda: all_folded(db, list(acked)),
        timeout_s=30,
        what="every acknowledged delivery folded by the dashboard that started after the kills",
    )
    wait_for(
        lambda: not [p for p in export_dir.rglob("*") if is_temp_name(p.name)],
        what=f"the exporter removes the temp files killed writers left ({strays} seen)",
    )
    assert (export_dir / INDEX_MD).exists()
    dashboard.press(b"q")
    assert dashboard.process.wait(30) == 0, dashboard.screen_text()[-2000:]
    assert integrity(db) == [("ok",)]
    assert check_context_files(export_dir) == 0


def test_sigkilled_dashboard_keeps_deliveries_db_and_context_files(
    tmp_path: Path, dashboards: list[Dashboard]
) -> None:
    # Each start is a cold interpreter plus Textual (2 s idle, 5 s on a busy 2-core machine):
    # three kills keep this near 20 s; the slow variant below does sixty.
    kill_and_restart(tmp_path, dashboards, iterations=3, seed_value=20261123)


@pytest.mark.slow
def test_many_sigkilled_dashboards(tmp_path: Path, dashboards: list[Dashboard]) -> None:
    kill_and_restart(tmp_path, dashboards, iterations=60, seed_value=60)


def test_the_dashboard_quits_when_its_terminal_goes_away(
    tmp_path: Path, dashboards: list[Dashboard]
) -> None:
    # Started in a session of its own, the dashboard gets no SIGHUP when the terminal closes;
    # without its own check it would read end-of-file for ever on a spinning input thread.
    db, _, config = seed(tmp_path)
    dashboard = Dashboard(*command(tmp_path, db, config))
    dashboards.append(dashboard)
    dashboard.wait_for_first_screen()

    dashboard.hang_up()

    try:
        dashboard.process.wait(15)
    except subprocess.TimeoutExpired:
        pytest.fail("the dashboard outlived its terminal by 15 s")
    assert integrity(db) == [("ok",)]
