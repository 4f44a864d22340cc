"""The export loop in a process of its own, for ``serve``.

Performance: a sync of a hundred sessions is ~20 ms of Python. Run as a thread of ``serve``, it
held the interpreter while the agents' hook writes and the receiver's acknowledgements waited
for it: a new-file edit's decision took 9.9 ms at the median in ``serve`` against 4.9 ms in the
hook server, which exports nothing. In a process of its own it runs on the other core.

The child is the same :class:`~oncall_tui.agents.export.loop.ExportLoop`, with the same lease:
one exporter per DB whoever runs it. It lives as long as the pipe to its parent: when the parent
stops it, exits or is killed, the pipe reads end-of-file and the child stops cleanly, giving the
lease up at once for whoever exports next. A child that dies is started again.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import signal
import threading
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import FrameType

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
        self._args = (db_path, _picklable(settings), program)
        # spawn, not fork: the host has threads (the receiver's, the pollers') by now.
        self._context = multiprocessing.get_context("spawn")
        self._stop = threading.Event()
        self._supervisor: threading.Thread | None = None
        self._child: tuple[BaseProcess, Connection] | None = None
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
            _stop_child(*child, timeout)

    def _spawn(self) -> None:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_export_while_parent_lives,
            args=(*self._args, theirs),
            name="oncall-export",
            daemon=False,  # it stops itself when the pipe closes, releasing the lease
        )
        process.start()
        theirs.close()  # only the child's copy stays open: our exit closes the pipe
        with self._lock:
            self._child = (process, ours)

    def _supervise(self) -> None:
        failures = 0
        while True:
            with self._lock:
                child = self._child
            if child is None:
                return
            process, pipe = child
            started = time.monotonic()
            while process.exitcode is None:
                if self._stop.is_set():
                    return
                process.join(0.5)
            if self._stop.is_set():
                return
            pipe.close()
            failures = 1 if time.monotonic() - started >= STEADY_S else failures + 1
            wait = RESTART_AFTER_S[min(failures, len(RESTART_AFTER_S)) - 1]
            log.warning(
                "the context exporter (pid %s) exited with status %s; restarting in %.0f s",
                process.pid,
                process.exitcode,
                wait,
            )
            if self._stop.wait(wait):
                return
            self._spawn()


def _picklable(settings: Settings) -> Settings:
    """The same values as the plain class: the one pydantic-settings reads a config file with is
    made per file, inside a function, and cannot be pickled to the child."""
    if type(settings) is Settings:
        return settings
    return Settings.model_construct(settings.model_fields_set, **dict(settings))


def _stop_child(process: BaseProcess, pipe: Connection, timeout: float) -> None:
    with contextlib.suppress(OSError):  # it is gone already
        pipe.send("stop")
    pipe.close()
    process.join(timeout)
    if process.exitcode is None:
        log.warning("the context exporter did not stop within %.0f s; terminating it", timeout)
        process.terminate()
        process.join(timeout)


class _Stopped(Exception):
    """SIGTERM in the child: stop as when the parent asks."""


def _export_while_parent_lives(
    db_path: DbLocation, settings: Settings, program: str, parent: Connection
) -> None:
    """The child: the export loop until the parent says stop or goes away."""
    from oncall_tui.agents.export.loop import ExportLoop

    # Ctrl+C reaches the whole process group: the parent decides, and tells the child.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _raise_stopped)
    loop = ExportLoop(db_path, settings, program=program)
    loop.start()
    try:
        parent.recv()  # "stop", or EOFError when the parent exited or was killed
    except (EOFError, OSError, _Stopped):
        pass
    finally:
        loop.stop()


def _raise_stopped(signum: int, frame: FrameType | None) -> None:
    raise _Stopped
