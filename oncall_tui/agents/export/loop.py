"""The export loop: context files that follow the journal, for ``serve`` and the dashboard."""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter, deque

from oncall_tui.agents.export.sync import ExportReport, RenderCache, sync
from oncall_tui.config import Settings
from oncall_tui.core.agents import DIRECT_CHANNELS
from oncall_tui.core.clock import Clock
from oncall_tui.core.journal import CHANGING_NO_FILES, Kind
from oncall_tui.core.window import SlidingCount
from oncall_tui.paths import DbLocation
from oncall_tui.store import deliveries
from oncall_tui.store.journal import Store
from oncall_tui.store.journal_news import JournalNews
from oncall_tui.store.lease import RENEW_EVERY_S, Lease

log = logging.getLogger(__name__)

POLL_S = 0.02
"""How often the loop looks at ``max(seq)`` (one indexed read): the latency of a lone event.
On PostgreSQL it waits for the journal's news instead (:mod:`oncall_tui.store.journal_news`),
and looks this often only while a write is held back or while it is not listening."""
RESYNC_S = 60.0
"""The loop also syncs this often without journal activity: sessions end by silence, notes come
up for review, and a hand-edited or deleted file gets repaired."""
QUIET_KINDS = tuple(sorted(kind.value for kind in CHANGING_NO_FILES))
"""Journal entries that change nothing in the files by themselves: a sync is not due."""


class ExportLoop:
    """Keeps the export current inside a long-running process (``serve``, the dashboard).

    One exporter per DB: the loop exports only while it holds the ``export`` lease
    (:mod:`oncall_tui.store.lease`), so the dashboard and ``serve`` running at once do not fight
    over the files, and whichever survives takes over when the other stops or dies.

    A thread looks at ``max(seq)`` every ``POLL_S`` (on PostgreSQL, when told of news) and syncs
    when the journal moved, but at
    most once per ``interval_s``: a lone event reaches the files within a poll, and a storm costs
    at most ``1 / interval_s`` syncs a second however many events arrive. It opens its own
    store, since a sqlite connection must not be shared across threads. Errors are logged (once
    until they change) and retried; they never reach the host process.
    """

    def __init__(
        self,
        db_path: DbLocation,
        settings: Settings,
        *,
        clock: Clock | None = None,
        program: str = "dashboard",
    ) -> None:
        self._db_path = db_path
        self._settings = settings
        self._clock = clock
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lease = Lease("export", program)
        self._news = JournalNews(db_path)
        self._moved = threading.Event()
        self._news.subscribe(lambda seq: self._moved.set())
        self.last_report: ExportReport | None = None
        self.exporting = False
        """Whether this process holds the export lease (else another process exports)."""

    @property
    def listening(self) -> bool:
        """Whether it is told of the journal's news (PostgreSQL) rather than looking for it."""
        return self._news.listening

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError("the export loop is already running")
        self._stop.clear()
        self._news.start()
        self._thread = threading.Thread(target=self._run, name="oncall-export", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to finish and wait for it (at most the sync in progress)."""
        self._stop.set()
        self._moved.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._news.stop()

    def _run(self) -> None:
        export = self._settings.export
        pacer = WritePacer(calm_spacing_s=export.calm_interval_s, storm_spacing_s=export.interval_s)
        store: Store | None = None
        cache = RenderCache()  # most sessions are as they were at the previous sync
        noted, last_error = -1, ""
        last_delivery = -1
        unwritten: Counter[str] = Counter()  # incidents changed since the last sync
        synced_at = leased_at = float("-inf")
        while not self._pause(held_back=bool(unwritten)):
            now = time.monotonic()
            try:
                store = store or Store.open(self._db_path, self._clock)
                if now - leased_at >= RENEW_EVERY_S:
                    leased_at = now
                    taking_over = not self.exporting
                    self.exporting = self._lease.hold(store.conn)
                    if self.exporting and taking_over:
                        noted = -1  # whoever exported before may have left the files behind
                if not self.exporting:
                    continue
                current = store.max_seq()
                delivery = deliveries.max_id(store.conn)
                pacer.note_arrivals(delivery - last_delivery if last_delivery >= 0 else 0, now)
                last_delivery = delivery
                if current != noted and noted >= 0:
                    # Each entry is noted once: counting it again at every poll while the
                    # pacer holds a write back would make a calm incident look like a storm.
                    touched = _touched_since(store, noted)
                    pacer.note(touched, now)
                    unwritten.update(touched)
                first = noted < 0
                noted = current
                if not unwritten and not first and now - synced_at < RESYNC_S:
                    continue
                pacer.backlog = deliveries.count_received(store.conn) if unwritten else 0
                due = first or now - synced_at >= RESYNC_S
                if due or any(pacer.may_write(key, now) for key in unwritten):
                    synced_at = now
                    self.last_report = sync(store, self._settings, cache=cache)
                    pacer.wrote(unwritten, now)
                    unwritten.clear()
            except Exception as exc:  # the loop must outlive any failure
                if str(exc) != last_error:
                    log.exception("context export failed; retrying")
                last_error = str(exc)
                if store is not None:
                    store.close()
                store = None
                self._stop.wait(export.interval_s)  # retry later, not at every poll
            else:
                last_error = ""
        self._give_up_lease(store)

    def _pause(self, *, held_back: bool) -> bool:
        """Wait until it is time to look again; True once asked to stop."""
        if not self._news.listening or held_back:
            return self._stop.wait(POLL_S)
        # Told of news, or at the lease's renewal: a sync due by time alone (RESYNC_S) can
        # wait that long.
        self._moved.wait(RENEW_EVERY_S)
        self._moved.clear()
        return self._stop.is_set()

    def _give_up_lease(self, store: Store | None) -> None:
        """Release the lease on a clean stop, so another process takes over at once."""
        try:
            if self.exporting:
                store = store or Store.open(self._db_path, self._clock)
                self._lease.release(store.conn)
        except Exception:  # it runs out by itself within LEASE_TTL_S
            log.warning("could not release the export lease", exc_info=True)
        finally:
            self.exporting = False
            if store is not None:
                store.close()


class WritePacer:
    """When an incident's changes may reach the files.

    Calm: a change is written within ``calm_spacing_s`` of the previous write (agents learn at
    once). Storm — more than ``storm_entries`` journal entries for the incident in the last
    ``STORM_WINDOW_S`` — writes for that incident are spaced ``storm_spacing_s`` apart and at most
    ``1 / storm_spacing_s`` in any second, so a flapping alert cannot churn the files; the last
    change still lands within one spacing. Incidents are paced separately: a storm on one does
    not hold back another. Deliveries arriving faster than ``STORM_ARRIVALS`` a window, or a
    backlog of deliveries the receiver acknowledged and has not folded yet, are a storm for every
    incident: they are seen before their signals are folded, so the files stop churning from the
    storm's first moments, and whatever is written during a backlog is outdated by the next fold.
    """

    STORM_WINDOW_S = 0.25
    STORM_ENTRIES = 70
    """About 140 events a second on one incident (each adds two or three journal entries)."""
    STORM_BACKLOG = 20
    """Deliveries received and not folded yet (``backlog``) that make a storm."""
    STORM_ARRIVALS = 50
    """Deliveries stored within ``STORM_WINDOW_S`` that make a storm (200 a second)."""

    def __init__(self, *, calm_spacing_s: float, storm_spacing_s: float) -> None:
        self.calm_spacing_s = calm_spacing_s
        self.storm_spacing_s = storm_spacing_s
        self._entries: dict[str, SlidingCount] = {}
        self._writes: dict[str, deque[float]] = {}
        self._arrivals = SlidingCount(self.STORM_WINDOW_S)
        self.backlog = 0

    def note_arrivals(self, count: int, now: float) -> None:
        self._arrivals.add(count, now)

    def note(self, touched: Counter[str], now: float) -> None:
        for key, count in touched.items():
            self._entries.setdefault(key, SlidingCount(self.STORM_WINDOW_S)).add(count, now)

    def in_storm(self, key: str, now: float) -> bool:
        if self.backlog >= self.STORM_BACKLOG:
            return True
        if self._arrivals.total(now) >= self.STORM_ARRIVALS:
            return True
        entries = self._entries.get(key)
        return entries is not None and entries.total(now) > self.STORM_ENTRIES

    def may_write(self, key: str, now: float) -> bool:
        writes = self._writes.get(key)
        if not writes:
            return True
        while writes and now - writes[0] >= 1.0:
            writes.popleft()
        if not writes:
            return True
        if self.in_storm(key, now):
            per_second = max(int(1.0 / self.storm_spacing_s), 1)
            return now - writes[-1] >= self.storm_spacing_s and len(writes) < per_second
        return now - writes[-1] >= self.calm_spacing_s

    def wrote(self, touched: Counter[str], now: float) -> None:
        for key in touched:
            self._writes.setdefault(key, deque()).append(now)


def _touched_since(store: Store, seq: int) -> Counter[str]:
    """Journal entries since ``seq`` per incident ("" for changes of no incident).

    A delivery through a hook or MCP is not quiet: a stand-down once said there leaves the
    files (a file's own delivery stays quiet, or each write would call for the next).
    """
    marks = ",".join("?" * len(QUIET_KINDS))
    direct = ",".join("?" * len(DIRECT_CHANNELS))
    rows = store.conn.execute(
        "SELECT coalesce(json_extract(body, '$.incident_id'), json_extract(body, '$.push.incident_id'),"
        " (SELECT incident_id FROM pushes WHERE id = json_extract(journal.body, '$.push_id')), '')"
        f" FROM journal WHERE seq > ? AND (kind NOT IN ({marks})"
        f" OR (kind = ? AND json_extract(body, '$.channel') IN ({direct})))",
        (seq, *QUIET_KINDS, Kind.CONTEXT_DELIVERED.value, *sorted(DIRECT_CHANNELS)),
    ).fetchall()
    return Counter(str(row[0]) for row in rows)
