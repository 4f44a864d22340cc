"""A real receiver on loopback, a DB on disk (or a PostgreSQL schema), and plain HTTP clients:
nothing is mocked.

``receiver`` runs the app in a thread of the test process (ReceiverThread); ``serve_process``
runs ``python -m oncall_tui serve`` as a separate process, for what needs a process of its own
(SIGKILL, dropped privileges).
"""

from __future__ import annotations

import ctypes
import itertools
import os
import select
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock, FixedClock
from oncall_tui.paths import DbLocation, is_postgres_url
from oncall_tui.server.runner import ReceiverThread
from oncall_tui.store.hook_queries import open_reader
from tests.support.environment import is_machine_setting
from tests.support.receiver_http import Reply, post_webhook, request

STORY_TIME = datetime(2026, 11, 23, 12, 0, 17, tzinfo=UTC)
"""When the sample story happens: 30 s after the signed Grafana sample's timestamp."""


@dataclass
class Endpoint:
    """A running receiver: where to send, and the DB (a file or a ``postgresql://`` URL) to
    check the outcome in."""

    port: int
    db: DbLocation

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        return request(self.port, method, path, body, headers)

    def post(self, source: str, body: bytes, headers: dict[str, str] | None = None) -> Reply:
        """POST as a sender would: JSON unless the headers (a sample's, say) name a type."""
        return post_webhook(self.port, source, body, headers)

    def deliveries(self) -> list[tuple[Any, ...]]:
        """(source, status, http_status, reason, body) of every stored delivery, oldest first."""
        return self.rows(
            "SELECT source, status, http_status, reason, body FROM deliveries ORDER BY id"
        )

    def rows(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        """Read the DB from a connection of our own, closed at once (never pin the WAL)."""
        if is_postgres_url(self.db):
            with closing(open_reader(self.db, timeout_s=10)) as reader:
                return reader.execute(sql, params).fetchall()
        with closing(sqlite3.connect(self.db, timeout=10)) as conn:
            return conn.execute(sql, params).fetchall()

    def folded(self, timeout_s: float = 20.0) -> None:
        """Wait until every received delivery is folded (the receiver folds after its 202)."""
        deadline = time.monotonic() + timeout_s
        while self.rows("SELECT count(*) FROM deliveries WHERE status = 'received'") != [(0,)]:
            assert time.monotonic() < deadline, "received deliveries were not folded in time"
            time.sleep(0.01)


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Settings read ONCALL_TUI_* and the XDG config file: neither may leak in from the machine.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    for name in [n for n in os.environ if is_machine_setting(n)]:
        monkeypatch.delenv(name)


ReceiverFactory = Callable[..., Endpoint]


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[ReceiverFactory]:
    """Start a receiver in this process: ``receiver(sources={...}, max_body_bytes=..., ...)``."""
    threads: list[ReceiverThread] = []

    def start(
        *,
        sources: dict[str, dict[str, str]] | None = None,
        max_body_bytes: int = 1_048_576,
        read_timeout_s: float = 10.0,
        busy_timeout_ms: int = 5000,
        clock: Clock | None = None,
    ) -> Endpoint:
        settings = Settings(
            db=tmp_path / "receiver.db",
            server={"host": "127.0.0.1", "port": 0, "max_body_bytes": max_body_bytes},
            sources=sources or {},
        )
        thread = ReceiverThread(
            settings,
            clock or FixedClock(STORY_TIME),
            read_timeout_s=read_timeout_s,
            busy_timeout_ms=busy_timeout_ms,
        )
        port = thread.start()
        threads.append(thread)
        return Endpoint(port, settings.db)

    yield start
    for thread in threads:
        thread.stop()


@dataclass
class ServeProcess:
    process: subprocess.Popen[bytes]
    endpoint: Endpoint
    stderr: Path

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def terminate(self, sig: int = signal.SIGTERM) -> int:
        self.process.send_signal(sig)
        return self.process.wait(30)


def _drop_file_permission_override() -> None:
    # Root ignores file modes (CAP_DAC_OVERRIDE). Dropping it from the bounding set before exec
    # makes the server honour them like any user would; PR_CAPBSET_DROP = 24.
    libc = ctypes.CDLL(None, use_errno=True)
    for capability in (1, 2):  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH
        if libc.prctl(24, capability, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


ServeFactory = Callable[..., ServeProcess]


@pytest.fixture
def serve_process(tmp_path: Path) -> Iterator[ServeFactory]:
    """Start ``python -m oncall_tui --db DB serve --port 0``; its first line tells the port.

    ``DB`` is a SQLite file or a ``postgresql://`` URL (several serves may share one)."""
    started: list[subprocess.Popen[bytes]] = []
    numbers = itertools.count()  # its own stderr file even for serves started at once

    def start(
        db: DbLocation,
        *,
        honour_file_modes: bool = False,
        timeout_s: float = 20,
        env_extra: dict[str, str] | None = None,
    ) -> ServeProcess:
        """``env_extra``: ``ONCALL_TUI_*`` settings for this server (the machine's never leak in)."""
        stderr = tmp_path / f"serve-{next(numbers)}.stderr"
        env = {k: v for k, v in os.environ.items() if not is_machine_setting(k)}
        # serve exports context files: by default under the XDG state dir, here the test's own.
        env["XDG_STATE_HOME"] = str(tmp_path / "xdg-state")
        env.update(env_extra or {})
        drop = honour_file_modes and os.geteuid() == 0
        try:
            with stderr.open("wb") as err:
                process = subprocess.Popen(
                    [sys.executable, "-m", "oncall_tui", "--db", str(db), "serve", "--port", "0"],
                    stdout=subprocess.PIPE,
                    stderr=err,
                    env=env,
                    preexec_fn=_drop_file_permission_override if drop else None,
                )
        except subprocess.SubprocessError as exc:  # only the preexec_fn can raise it
            pytest.skip(f"cannot make root honour file modes here: {exc}")
        started.append(process)
        assert process.stdout is not None
        ready, _, _ = select.select([process.stdout], [], [], timeout_s)
        line = process.stdout.readline().decode() if ready else ""
        if "receiving on http://127.0.0.1:" not in line:
            process.kill()
            pytest.fail(f"serve did not start: {line!r} {stderr.read_text()[-2000:]}")
        port = int(line.split("http://127.0.0.1:")[1].split()[0])
        return ServeProcess(process, Endpoint(port, db), stderr)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait(10)
        if process.stdout is not None:
            process.stdout.close()
