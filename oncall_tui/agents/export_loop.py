"""The export loop: context files that follow the journal, for ``serve`` and the dashboard."""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

from oncall_tui.agents.export import ExportReport, sync
from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.store.journal import Store

log = logging.getLogger(__name__)

POLL_S = 0.02
"""How often the loop looks at ``max(seq)`` (one indexed read): the latency of a lone event."""
RESYNC_S = 60.0
"""The loop also syncs this often without journal activity: sessions end by silence, notes come
up for review, and a hand-edited or deleted file gets repaired."""
QUIET_KINDS = ("context.delivered", "export.failed")
"""Journal entries that change nothing in the files (the exporter writes them itself)."""


class ExportLoop:
    """Keeps the export current inside a long-running process (``serve``, the dashboard).

    A thread looks at ``max(seq)`` every ``POLL_S`` and syncs when the journal moved, but at
    most once per ``interval_s``: a lone event reaches the files within a poll, and a storm costs
    at most ``1 / interval_s`` syncs a second however many events arrive. It opens its own
    store, since a sqlite connection must not be shared across threads. Errors are logged (once
    until they change) and retried; they never reach the host process.
    """

    def __init__(self, db_path: Path, settings: Settings, *, clock: Clock | None = None) -> None:
        self._db_path = db_path
        self._settings = settings
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_report: ExportReport | None = None

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the export loop is already running")
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="oncall-export", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish and wait for it (at most the sync in progress)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        interval = self._settings.export.interval_s
        store: Store | None = None
        seen, last_error = -1, ""
        synced_at = float("-inf")
        written: dict[str, float] = {}
        """When each incident (or "" for changes of no incident) last reached the files."""
        while not self._stop.wait(POLL_S):
            now = time.monotonic()
            try:
                store = store or Store.open(self._db_path, self._clock)
                current = store.max_seq()
                touched = _touched_since(store, seen) if current != seen and seen >= 0 else set()
                due = seen < 0 or now - synced_at >= RESYNC_S
                # Leading edge per incident: the first change of an incident is written at once,
                # further changes of the same incident at most every interval_s (a storm on one
                # incident costs 4 writes a second, a new incident elsewhere is not held back).
                waiting = {
                    key for key in touched if now - written.get(key, float("-inf")) < interval
                }
                if due or (touched and touched != waiting):
                    synced_at = now
                    self.last_report = sync(store, self._settings)
                    written.update(dict.fromkeys(touched, now))
                    seen = current
                elif not touched:
                    seen = current
            except Exception as exc:  # the loop must outlive any failure
                if str(exc) != last_error:
                    log.exception("context export failed; retrying")
                last_error = str(exc)
                if store is not None:
                    store.close()
                store = None
                self._stop.wait(interval)  # retry after interval_s, not at every poll
            else:
                last_error = ""
        if store is not None:
            store.close()


def _touched_since(store: Store, seq: int) -> set[str]:
    """The incidents whose context may have changed since ``seq`` ("" for other changes)."""
    marks = ",".join("?" * len(QUIET_KINDS))
    rows = store.conn.execute(
        "SELECT coalesce(json_extract(body, '$.incident_id'), json_extract(body, '$.push.incident_id'),"
        " (SELECT incident_id FROM pushes WHERE id = json_extract(journal.body, '$.push_id')), '')"
        f" FROM journal WHERE seq > ? AND kind NOT IN ({marks})",
        (seq, *QUIET_KINDS),
    ).fetchall()
    return {str(row[0]) for row in rows}
