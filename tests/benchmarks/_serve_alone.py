"""``oncall-tui serve`` as a process of its own, and a watcher for the files it writes.

What a benchmark needs when the code it measures runs in another process: start ``serve`` on
127.0.0.1 with a free port and a config file of its own, make sure it is gone however the
benchmark ends, and see the files it writes from outside (no wrapping possible), by polling.
"""

from __future__ import annotations

import json
import os
import select
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path

from oncall_tui.agents.local_api import find
from tests.support.environment import quiet_environment
from tests.support.samples import REPO

POLL_INTERVAL_S = 0.002
"""How often :class:`FilePoller` looks at the file: the most a version's time can read late."""
SERVE_START_TIMEOUT_S = 30.0
SERVE_STOP_TIMEOUT_S = 10.0
ANNOUNCEMENT = "receiving on http://127.0.0.1:"
"""What ``serve`` prints on its first line, followed by the port it bound."""


class FilePoller:
    """Watch a file that another process replaces atomically; report every version of it.

    Every ``interval_s`` a ``stat`` tells whether (inode, mtime, size) changed; if so the file
    is opened, the time taken, and the contents read from that open descriptor. A version is
    therefore timed after it was written, never before, and at most one interval plus one
    ``stat`` after: the error of this method, always on the late side.
    """

    def __init__(
        self,
        target: Path,
        on_version: Callable[[float, bytes], None],
        interval_s: float = POLL_INTERVAL_S,
    ) -> None:
        """``on_version(at, data)``: ``at`` is ``time.monotonic()`` when ``data`` was opened."""
        self.target = target
        self.on_version = on_version
        self.interval_s = interval_s
        self.versions = 0
        self._seen: tuple[int, int, int] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-file-poller", daemon=True)

    def __enter__(self) -> FilePoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.poll_once()
            self._stop.wait(self.interval_s)

    def poll_once(self) -> None:
        """Report the file's current version if it is not the one seen last."""
        try:
            if _version_key(os.stat(self.target)) == self._seen:
                return
            with self.target.open("rb") as handle:
                opened_at = time.monotonic()
                key = _version_key(os.fstat(handle.fileno()))
                data = handle.read()
        except FileNotFoundError:  # not written yet
            return
        if key != self._seen:
            self._seen = key
            self.versions += 1
            self.on_version(opened_at, data)


def _version_key(status: os.stat_result) -> tuple[int, int, int]:
    # An atomic replace makes a new inode; mtime and size catch an in-place rewrite too.
    return status.st_ino, status.st_mtime_ns, status.st_size


@dataclass
class ServeAlone:
    """A running ``oncall-tui serve`` process and the loopback port it announced."""

    process: subprocess.Popen[bytes]
    port: int


def toml_config(tables: Mapping[str, Mapping[str, object]]) -> str:
    """A TOML file of flat tables of strings, integers and lists of strings."""

    def value(item: object) -> str:
        if isinstance(item, bool | int):
            return json.dumps(item)
        if isinstance(item, Sequence) and not isinstance(item, str):
            return "[" + ", ".join(value(i) for i in item) + "]"
        return json.dumps(str(item))  # a JSON string is a valid TOML basic string

    lines = []
    for name, table in tables.items():
        lines.append(f"[{name}]")
        lines += [f"{key} = {value(item)}" for key, item in table.items()]
    return "\n".join(lines) + "\n"


@contextmanager
def serve_alone(
    tmp: Path, db: Path, config: Mapping[str, Mapping[str, object]]
) -> Iterator[ServeAlone]:
    """``python -m oncall_tui --db DB --config FILE serve`` on 127.0.0.1, a free port; stopped
    (killed if it does not stop) however the block ends.

    ``config`` (tables of the TOML file) is all that configures it: the machine's
    ``ONCALL_TUI_*`` variables and XDG directories are kept out; ``[server]`` is forced to
    loopback and port 0, and the port is read from the line it prints once it answers.
    """
    tables = {name: dict(table) for name, table in config.items()}
    tables["server"] = {**tables.get("server", {}), "host": "127.0.0.1", "port": 0}
    config_path = tmp / "serve.toml"
    config_path.write_text(toml_config(tables))
    env = quiet_environment(tmp)
    command = [sys.executable, "-m", "oncall_tui", "--db", str(db), "--config", str(config_path)]
    command += ["serve", "--host", "127.0.0.1", "--port", "0"]
    stderr_path = tmp / "serve.stderr"
    with stderr_path.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            cwd=REPO,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    try:
        yield ServeAlone(process, _announced_port(process, stderr_path))
    finally:
        stop_process(process)


def wait_for_local_api(db: Path, timeout_s: float = SERVE_START_TIMEOUT_S) -> None:
    """Until ``serve`` publishes where it answers this machine's hooks and commands."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with closing(sqlite3.connect(db)) as conn:
            if find(conn) is not None:
                return
        time.sleep(0.05)
    raise RuntimeError("serve did not publish its local address")


def _announced_port(process: subprocess.Popen[bytes], stderr_path: Path) -> int:
    """The port of ``oncall-tui receiving on http://127.0.0.1:PORT (db: ...)``."""
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], SERVE_START_TIMEOUT_S)
    line = process.stdout.readline().decode(errors="replace") if ready else ""
    if ANNOUNCEMENT not in line:
        raise RuntimeError(f"serve did not start: {line!r} {stderr_path.read_text()[-2000:]}")
    return int(line.split(ANNOUNCEMENT, 1)[1].split()[0])


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM (serve finishes its in-flight deliveries), then SIGKILL if it is still there."""
    try:
        if process.poll() is None:
            process.terminate()
            process.wait(SERVE_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        pass
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(SERVE_STOP_TIMEOUT_S)
        if process.stdout is not None:
            process.stdout.close()
