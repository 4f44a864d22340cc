"""The export loop in a process of its own, for ``serve``.

Performance: a sync of a hundred sessions is ~20 ms of Python. Run as a thread of ``serve``, it
held the interpreter while the agents' hook writes and the receiver's acknowledgements waited
for it: a new-file edit's decision took 9.9 ms at the median in ``serve`` against 4.9 ms in the
hook server, which exports nothing. In a process of its own it runs on the other core.

The child is the same :class:`~oncall_tui.agents.export.loop.ExportLoop`, with the same lease:
one exporter per DB whoever runs it. Its standard input is its lifeline: the parent writes the
settings there (pickled: the settings' own values, secrets included, never on a command line)
and keeps it open; when the parent stops it, exits or is killed, the pipe reads end-of-file and
the child stops cleanly, giving the lease up at once for whoever exports next. A child that dies
is started again. Its standard error is the parent's, so what it logs reaches serve's log. In
``ps`` it is ``python -m oncall_tui.agents.export.process --parent PID`` (serve's pid).
"""

from __future__ import annotations

import contextlib
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from types import FrameType
from typing import IO

from oncall_tui.config import Settings
from oncall_tui.paths import DbLocation

log = logging.getLogger(__name__)

RESTART_AFTER_S = (1.0, 2.0, 5.0, 10.0, 30.0)
"""Waits before each restart of a child that died, the last repeated: a child that cannot run
(a DB gone for good) is retried without spinning."""
STEADY_S = 60.0
"""A child that ran this long before dying is restarted after the first wait again."""
STOP_TIMEOUT_S = 5.0


class ExportProcess:
    """Start, supervise and stop the export loop's child process (``start`` / ``stop``, as the
    loop itself has)."""

    def __init__(self, db_path: DbLocation, settings: Settings, *, program: str) -> None:
        self._order = pickle.dumps((db_path, _picklable(settings), program))
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._child: subprocess.Popen[bytes] | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._supervisor is not None:
            raise RuntimeError("the export process is already running")
        self._stop.clear()
        self._spawn()
        self._supervisor = threading.Thread(
            target=self._supervise, name="oncall-export-supervisor", daemon=True
        )
        self._supervisor.start()

    def stop(self, timeout: float = STOP_TIMEOUT_S) -> None:
        """Tell the child to stop (it finishes the sync in progress and gives up the lease)."""
        self._stop.set()
        if self._supervisor is not None:
            self._supervisor.join(timeout)
            self._supervisor = None
        with self._lock:
            child, self._child = self._child, None
        if child is not None:
            _stop_child(child, timeout)

    def _spawn(self) -> None:
        child = subprocess.Popen(
            [sys.executable, *_same_code(), "-m", __name__, "--parent", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            # Its own process group: a Ctrl+C in serve's terminal is serve's to handle, and
            # serve then stops the child (after the sync in progress, lease given up).
            start_new_session=True,
        )
        assert child.stdin is not None
        # A child that died before reading it: the supervisor sees it exit and starts another.
        with contextlib.suppress(BrokenPipeError):
            child.stdin.write(self._order)
            child.stdin.flush()  # kept open: its end-of-file tells the child we are gone
        with self._lock:
            self._child = child

    def _supervise(self) -> None:
        failures = 0
        while True:
            with self._lock:
                child = self._child
            if child is None:
                return
            started = time.monotonic()
            while child.poll() is None:
                if self._stop.wait(0.5):
                    return
            if self._stop.is_set():
                return
            _close(child.stdin)
            failures = 1 if time.monotonic() - started >= STEADY_S else failures + 1
            wait = RESTART_AFTER_S[min(failures, len(RESTART_AFTER_S)) - 1]
            log.warning(
                "the context exporter (pid %s) exited with status %s; restarting in %.0f s",
                child.pid,
                child.returncode,
                wait,
            )
            if self._stop.wait(wait):
                return
            self._spawn()


def _same_code() -> list[str]:
    """Interpreter options under which the child imports the oncall_tui this process runs. It
    keeps our working directory (the settings may name paths relative to it), and ``-m`` would
    put that directory first on its path, where another checkout of oncall_tui would shadow
    ours: ``-P`` leaves it out, unless ours was imported from that very directory."""
    import oncall_tui

    home = Path(oncall_tui.__file__).resolve().parent.parent
    return [] if home == Path.cwd().resolve() else ["-P"]


def _picklable(settings: Settings) -> Settings:
    """The same values as the plain class: the one pydantic-settings reads a config file with is
    made per file, inside a function, and cannot be pickled to the child."""
    if type(settings) is Settings:
        return settings
    return Settings.model_construct(settings.model_fields_set, **dict(settings))


def _stop_child(child: subprocess.Popen[bytes], timeout: float) -> None:
    _close(child.stdin)  # the child's signal to stop
    try:
        child.wait(timeout)
    except subprocess.TimeoutExpired:
        log.warning("the context exporter did not stop within %.0f s; terminating it", timeout)
        child.terminate()
        try:
            child.wait(timeout)
        except subprocess.TimeoutExpired:  # stopping serve must not hang on it, nor fail
            child.kill()
            child.wait()


def _close(stream: IO[bytes] | None) -> None:
    if stream is not None:
        with contextlib.suppress(OSError):  # it is gone already
            stream.close()


class _Stopped(Exception):
    """SIGTERM in the child: stop as when the parent goes."""


def main() -> None:
    """The child: the export loop until its standard input closes (or SIGTERM)."""
    from oncall_tui.agents.export.loop import ExportLoop

    signal.signal(signal.SIGTERM, _raise_stopped)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides, and closes our input
    lifeline = sys.stdin.buffer
    db_path, settings, program = pickle.load(lifeline)
    loop = ExportLoop(db_path, settings, program=program)
    loop.start()
    try:
        lifeline.read()  # returns at end-of-file: the parent stopped us, exited or was killed
    except _Stopped:
        pass
    finally:
        loop.stop()


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped


if __name__ == "__main__":
    main()
