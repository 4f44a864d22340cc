"""The receiver's one writer: raw deliveries committed in groups, folded in between.

Every request thread, the event loop and the pollers hand their prepared deliveries to one
thread that owns the SQLite connection. It commits whatever is queued in ONE transaction (a
storm's deliveries share their commit) and answers them all; between commits it folds received
deliveries into incidents a slice at a time. Without a storm the fold runs whenever nothing is
queued and keeps up. During a storm it takes a quarter of the writer's time, whether or not
deliveries are queued, and half once the oldest delivery waiting for it is older than
:data:`MAX_FOLD_LAG_S`: acknowledging comes first, but the incident's counts and the agents'
files stay within about that lag of what the senders were told, and what is left when the storm
ends is folded within a fraction of a second.

One receiver folds per DB: several ``serve`` processes may receive for one database (team mode,
behind a load balancer, each taking every alert of Alertmanager's HA pair), and the one holding
the ``fold`` lease (:mod:`oncall_tui.store.lease`) folds what any of them received. The others
only store and acknowledge. When the holder dies its lease runs out, and the next receiver to
renew takes over the backlog, every received delivery since the deliveries table is the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Mapping

from oncall_tui.config import Settings
from oncall_tui.core.clock import Clock
from oncall_tui.core.window import SlidingCount
from oncall_tui.ingest.pending import PendingFolds
from oncall_tui.ingest.prepare import Prepared, Preparer, Verify
from oncall_tui.ingest.record import Ingestor, IngestResult
from oncall_tui.paths import display_db
from oncall_tui.store.checkpoint import wal_keeper
from oncall_tui.store.db import StoreUnavailableError, Synchronous, open_db
from oncall_tui.store.journal import Store
from oncall_tui.store.lease import RENEW_EVERY_S, Lease

log = logging.getLogger(__name__)

MAX_BATCH = 256
"""Deliveries per transaction at most: bounds the time one commit holds the write lock."""
FOLD_SLICE_S = 0.008
"""One fold transaction's length during a storm."""
CALM_FOLD_SLICE_S = 0.1
"""Its length otherwise: fewer commits. A delivery arriving meanwhile still waits only for the
chunk being folded (a few milliseconds): outside a storm the fold stops for anything queued."""
STORM_WINDOW_S = 0.25
STORM_DELIVERIES = 50
"""This many deliveries within ``STORM_WINDOW_S`` (200 a second) are a storm: the fold then
yields three quarters of the time to acknowledging them. Below that it keeps up, so agents
learn of each delivery within milliseconds."""
STORM_FOLD_SHARE = 0.25
CATCH_UP_FOLD_SHARE = 0.5
MAX_FOLD_LAG_S = 1.0
"""During a storm the fold takes ``STORM_FOLD_SHARE`` of the writer's time while the oldest
delivery waiting for it is younger than this, ``CATCH_UP_FOLD_SHARE`` once it is older: the lag
stays near this bound however long the storm (measured: ``tests/benchmarks/bench_storm.py``)."""
RETRY_S = 1.0
"""After a store failure the fold waits this long before trying again."""
DRAIN_ON_CLOSE_S = 5.0
"""At shutdown, fold what is received for up to this long; the next start folds the rest."""
FOLD_LEASE = "fold"


class IngestWriter:
    """Owns the receiver's connection; see the module docstring.

    After a store failure every delivery of the batch is answered 503, and the connection is
    reopened for the next batch, so a DB that was read-only or on a full disk is picked up again
    once fixed.

    The commits it acknowledges run with ``synchronous=FULL`` by default: a 202 tells the sender
    it need not retry, so what it acknowledged must survive a power cut or an OS crash, not only
    a crash of this process. A batch shares its commit, so the fsync is paid per batch; folds
    commit at NORMAL (a fold lost with the OS leaves its deliveries received, folded again).
    """

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        busy_timeout_ms: int,
        synchronous: Synchronous = "FULL",
    ) -> None:
        self._settings = settings
        self._clock = clock
        self._busy_timeout_ms = busy_timeout_ms
        self._synchronous: Synchronous = synchronous
        self.durability = synchronous.lower()
        """What an acknowledged delivery survives: ``full`` (power cut) or ``normal`` (a crash
        of this process only)."""
        self.store_error: str | None = None
        """Why the last commit or fold failed to reach the store; None once one succeeds."""
        # prepare() uses no connection: callers run it on their own threads.
        self._preparer = Preparer(
            settings, clock, require_credentials=not settings.server.is_loopback
        )
        self._ingestor: Ingestor | None = self._open()  # a bad DB fails here, at startup
        self._folds = PendingFolds(self._ingestor)
        self._cond = threading.Condition()
        self._queue: list[_Ticket] = []
        self._closing = False
        self._fold_due = 0.0  # monotonic time the fold may run again (0: now)
        self._fold_pending = True  # a crash may have left deliveries received, not folded
        self._arrivals = SlidingCount(STORM_WINDOW_S)  # deliveries committed
        self._fold_lease = Lease(FOLD_LEASE, "serve")
        self.folding = False
        """Whether this receiver holds the fold lease (else another one folds)."""
        self._lease_due = 0.0  # monotonic time the lease is renewed (or tried for) again
        self._wal = wal_keeper(settings.db, busy_timeout_ms)
        self._thread = threading.Thread(target=self._run, name="oncall-ingest", daemon=True)
        self._thread.start()

    def _open(self) -> Ingestor:
        conn = open_db(self._settings.db, busy_timeout_ms=self._busy_timeout_ms)
        # The WalKeeper checkpoints beside this connection: a commit that checkpointed would
        # hold up every sender waiting on it.
        conn.execute("PRAGMA wal_autocheckpoint = 0")
        store = Store(conn, self._clock)
        loopback = self._settings.server.is_loopback
        return Ingestor(store, self._settings, require_credentials=not loopback)

    # --- callers ----------------------------------------------------------------------------

    def prepare(
        self,
        source: str,
        body: bytes,
        headers: Mapping[str, str],
        verify: Verify = "all",
        from_http: bool = False,
    ) -> Prepared:
        return self._preparer.prepare(source, body, headers, verify=verify, from_http=from_http)

    def ingest(
        self, source: str, body: bytes, headers: Mapping[str, str], verify: Verify = "all"
    ) -> IngestResult:
        """Prepare, queue and wait for the commit: for threads (pollers, tests)."""
        done = threading.Event()
        ticket = self._submit(_Ticket(self.prepare(source, body, headers, verify), event=done))
        done.wait()
        return ticket.outcome()

    async def ingest_async(self, prepared: Prepared) -> IngestResult:
        """Queue a prepared delivery and await its commit without holding a thread."""
        loop = asyncio.get_running_loop()
        ticket = self._submit(_Ticket(prepared, loop=loop, future=loop.create_future()))
        assert ticket.future is not None
        await ticket.future
        return ticket.outcome()

    def _submit(self, ticket: _Ticket) -> _Ticket:
        with self._cond:
            if self._closing:
                ticket.fail(StoreUnavailableError("the receiver is shutting down"))
                _wake([ticket])
                return ticket
            self._queue.append(ticket)
            self._cond.notify()
        return ticket

    @property
    def wal_alarm(self) -> str | None:
        """Why the DB's WAL is growing unchecked (a stuck reader), or None."""
        return self._wal.alarm

    def close(self) -> None:
        """Answer what is queued, fold for a few seconds, close the connection."""
        with self._cond:
            self._closing = True
            self._cond.notify()
        self._thread.join()

    # --- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                break
            with self._wal.writing():
                self._keep_fold_lease()
                if batch:
                    self._commit(batch)
                else:
                    self._fold_slice()
            self._wal.after_commit()
        if self.folding:
            self._drain()
            self._give_up_fold_lease()
        self._wal.close()
        if self._ingestor is not None:
            self._ingestor.store.close()

    def _next_batch(self) -> list[_Ticket] | None:
        """Queued deliveries; ``[]`` when it is the fold's turn; None when closing."""
        with self._cond:
            while True:
                if self._queue and self._storm_fold_due():
                    # Senders that keep the queue full must not starve the fold: it opens
                    # the incident and keeps its counts true while the storm goes on.
                    return []
                if self._queue:
                    batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
                    return batch
                if self._closing:
                    return None
                now = time.monotonic()
                wait = self._lease_due - now
                if wait <= 0:
                    return []  # the lease's turn (then the fold's, if due)
                if self._fold_pending:
                    wait = min(wait, self._fold_due - now)
                    if wait <= 0:
                        return []
                self._cond.wait(wait)

    def _commit(self, batch: list[_Ticket]) -> None:
        self._arrivals.add(len(batch), time.monotonic())
        try:
            results = self._connected().receive_many(
                [t.prepared for t in batch], durable=self._synchronous == "FULL"
            )
        except Exception as exc:  # this thread must answer every ticket and live on
            if not isinstance(exc, StoreUnavailableError):
                log.exception("storing %d deliveries failed", len(batch))
                exc = StoreUnavailableError(f"internal error: {type(exc).__name__}")
            self.store_error = str(exc)
            self._lost_connection()
            for ticket in batch:
                ticket.fail(exc)
            _wake(batch)
            return
        committed = time.monotonic()
        for ticket, result in zip(batch, results, strict=True):
            if self.folding and result.status == "received" and result.delivery_id is not None:
                raw = ticket.prepared.raw
                self._folds.remember(
                    result.delivery_id, raw.source, ticket.prepared.signals, committed
                )
                self._fold_pending = True
            ticket.finish(result)
        self.store_error = None
        _wake(batch)

    def _keep_fold_lease(self) -> None:
        """Renew the fold lease (or try for it) every :data:`RENEW_EVERY_S`. Holding it, look
        for received deliveries at each renewal: another receiver's are folded here too."""
        now = time.monotonic()
        if now < self._lease_due:
            return
        self._lease_due = now + RENEW_EVERY_S
        try:
            held = self._fold_lease.hold(self._connected().store.conn)
        except Exception as exc:  # the store is failing: commits say so; retried next renewal
            log.warning("could not renew the fold lease: %s", exc)
            held = False
        if not held and self.folding:
            log.warning("another receiver holds the fold lease now; this one only receives")
            self._folds.forget_all()
        self.folding = held
        self._fold_pending = self._fold_pending or held

    def _give_up_fold_lease(self) -> None:
        """On a clean stop: another receiver takes the fold over at its next renewal."""
        try:
            if self._ingestor is not None:
                self._fold_lease.release(self._ingestor.store.conn)
        except Exception:  # it runs out by itself within the lease's TTL
            log.warning("could not release the fold lease", exc_info=True)
        self.folding = False

    def _storm_fold_due(self) -> bool:
        now = time.monotonic()
        return (
            self._fold_pending
            and now >= self._fold_due
            and self._arrivals.total(now) >= STORM_DELIVERIES
        )

    def _fold_slice(self) -> None:
        if not self.folding:
            self._fold_pending = False
            return
        started = time.monotonic()
        storm = self._arrivals.total(started) >= STORM_DELIVERIES
        try:
            if storm:  # its slice, whatever is queued: the share below bounds it
                self._fold_pending = self._fold_some(FOLD_SLICE_S, lambda: False)
            else:  # anything queued goes first: the fold keeps up without a storm
                self._fold_pending = self._fold_some(CALM_FOLD_SLICE_S, lambda: bool(self._queue))
        except Exception as exc:  # the deliveries stay received; the next attempt folds them
            if isinstance(exc, StoreUnavailableError):
                log.warning("folding failed, retrying in %g s: %s", RETRY_S, exc)
                self.store_error = str(exc)
            else:
                log.exception("folding failed, retrying in %g s", RETRY_S)
            self._lost_connection()
            self._fold_due = time.monotonic() + RETRY_S
            return
        now = time.monotonic()
        if storm:
            behind = self._folds.lag(now) > MAX_FOLD_LAG_S
            share = CATCH_UP_FOLD_SHARE if behind else STORM_FOLD_SHARE
            self._fold_due = now + (now - started) * (1 / share - 1)
        else:
            self._fold_due = 0.0

    def _drain(self) -> None:
        deadline = time.monotonic() + DRAIN_ON_CLOSE_S
        while self._fold_pending and time.monotonic() < deadline:
            try:
                self._fold_pending = self._fold_some(CALM_FOLD_SLICE_S, lambda: False)
            except Exception:
                log.exception("folding at shutdown failed; the next start folds the rest")
                return

    def _fold_some(self, budget_s: float, should_stop: Callable[[], bool]) -> bool:
        self._connected()
        return self._folds.fold_some(budget_s, should_stop)

    def _connected(self) -> Ingestor:
        if self._ingestor is None:
            try:
                self._ingestor = self._open()
            except (sqlite3.Error, OSError) as exc:
                raise StoreUnavailableError(
                    f"cannot open {display_db(self._settings.db)}: {exc}"
                ) from exc
            self._folds = PendingFolds(self._ingestor)
        return self._ingestor

    def _lost_connection(self) -> None:
        if self._ingestor is not None:
            self._ingestor.store.close()
            self._ingestor = None
        self._folds.forget_all()


class _Ticket:
    """One queued delivery, who waits for it (an event loop or a thread) and its outcome."""

    def __init__(
        self,
        prepared: Prepared,
        *,
        event: threading.Event | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
        future: asyncio.Future[None] | None = None,
    ) -> None:
        self.prepared = prepared
        self.event = event
        self.loop = loop
        self.future = future
        self._result: IngestResult | None = None
        self._error: StoreUnavailableError | None = None

    def finish(self, result: IngestResult) -> None:
        self._result = result

    def fail(self, error: StoreUnavailableError) -> None:
        self._error = error

    def outcome(self) -> IngestResult:
        if self._error is not None:
            raise self._error
        assert self._result is not None
        return self._result


def _wake(tickets: list[_Ticket]) -> None:
    """Tell every waiter its outcome is ready: one call into each event loop for the whole
    batch, since each call from another thread costs the loop a wake-up."""
    futures_by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
    for ticket in tickets:
        if ticket.event is not None:
            ticket.event.set()
        elif ticket.loop is not None and ticket.future is not None:
            futures_by_loop.setdefault(ticket.loop, []).append(ticket.future)
    for loop, futures in futures_by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop closed: nobody waits any more
            loop.call_soon_threadsafe(_resolve_all, futures)


def _resolve_all(futures: list[asyncio.Future[None]]) -> None:
    for future in futures:
        if not future.done():  # cancelled: its request went away
            future.set_result(None)
