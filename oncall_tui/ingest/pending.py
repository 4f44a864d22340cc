"""Folding received deliveries into incidents, after their senders had their 202.

The receiver commits raw bytes first (:meth:`Ingestor.receive_many`) and folds afterwards, in
short slices between its commits, so an alert storm is acknowledged at the speed of the store.
The ``deliveries`` table is the queue: a delivery stays ``received`` until its last signal is
folded, so one that a crash interrupted is folded by the next receiver to start.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from oncall_tui.core.models import Signal
from oncall_tui.ingest.record import FoldPart, Ingestor, mark_unparsable
from oncall_tui.store import deliveries
from oncall_tui.store.journal import Writer

log = logging.getLogger(__name__)

FOLD_CHUNK = 8
"""Signals per savepoint: a 10,000-alert group is folded a few milliseconds at a time."""
SCAN = 64
"""Received deliveries looked up per query."""
REMEMBER_SIGNALS = 20_000
"""Parsed signals kept in memory for the fold at most (a few KB each); past that, a storm's
deliveries are parsed again from their stored bytes when their turn comes."""


@dataclass
class _Pending:
    source: str
    signals: list[Signal]
    received: float
    """``time.monotonic()`` when its raw bytes were committed (when loaded from the store after
    a restart: when loaded, since only the lag from now on is for this process to catch up)."""
    done: int = 0
    """Signals folded so far, by this process."""
    recorded: int = 0
    """Of those, the ones recorded (not duplicates). A delivery whose fold a crash cut short
    counts only what the next process records: the rest are duplicates by then."""


class PendingFolds:
    """The fold's side of the receiver: what is received and not yet folded, and folding it.

    Signals parsed on the request path are remembered here so the fold does not parse the
    body again; a delivery received before a restart is parsed from its stored bytes.
    Used by one thread only (the receiver's writer).
    """

    def __init__(self, ingestor: Ingestor) -> None:
        self._ingestor = ingestor
        self._pending: dict[int, _Pending] = {}
        self._remembered = 0  # signals held in _pending
        self._unremembered = False  # received deliveries beyond what _pending holds

    def remember(
        self, delivery_id: int, source: str, signals: list[Signal], received: float
    ) -> None:
        """``received``: ``time.monotonic()`` of its commit, for :meth:`lag`."""
        if self._remembered + len(signals) <= REMEMBER_SIGNALS:
            self._pending[delivery_id] = _Pending(source, signals, received)
            self._remembered += len(signals)
        else:
            self._unremembered = True

    def forget_all(self) -> None:
        """After a failed transaction: progress may have been rolled back, re-read it."""
        self._pending.clear()
        self._remembered = 0
        self._unremembered = True  # what is received is re-read from the store

    def lag(self, now: float) -> float:
        """How long the oldest delivery this process received has waited for its fold (0 when
        none waits; infinite while more are received than it remembers, which is a backlog
        by definition). Deliveries are folded in the order they were committed, so the first
        one remembered is the oldest."""
        if self._unremembered:
            return float("inf")
        oldest = next(iter(self._pending.values()), None)
        return 0.0 if oldest is None else max(0.0, now - oldest.received)

    def fold_some(self, budget_s: float, should_stop: Callable[[], bool]) -> bool:
        """Fold chunks, in one transaction, for about ``budget_s`` or until ``should_stop``.

        A chunk is up to ``FOLD_CHUNK`` signals: of one big delivery, or of several small ones
        (a storm of single-alert deliveries then shares each savepoint, flush and reconcile).
        Returns whether received deliveries remain. Store failures propagate (the caller
        retries later); the chunks of the failed transaction are folded again then.
        """
        started = time.monotonic()
        with self._ingestor.store.write() as writer:
            chunk: list[FoldPart] = []
            size = 0
            for delivery_id, source in deliveries.received_ids(writer.conn, SCAN):
                pending = self._load(writer, delivery_id, source)
                while pending is not None:
                    part = self._next_part(delivery_id, pending, FOLD_CHUNK - size)
                    chunk.append(part)
                    size += len(part.signals)
                    pending = pending if pending.done < len(pending.signals) else None
                    if size < FOLD_CHUNK:
                        break  # room for the next delivery's signals
                    self._fold_chunk(writer, chunk)
                    chunk, size = [], 0
                    if time.monotonic() - started >= budget_s or should_stop():
                        return True
            if chunk:
                self._fold_chunk(writer, chunk)
        remaining = bool(deliveries.received_ids(self._ingestor.store.conn, 1))
        if not remaining:
            self._unremembered = False
        return remaining

    def _load(self, writer: Writer, delivery_id: int, source: str) -> _Pending | None:
        pending = self._pending.get(delivery_id)
        if pending is not None:
            return pending
        stored = deliveries.get(writer.conn, delivery_id)
        assert stored is not None
        signals, failure = self._ingestor.preparer.parse_stored(source, stored.body, stored.headers)
        if failure is not None:
            # Parsed when received, not now: today's adapter differs from the one that took it.
            mark_unparsable(writer, delivery_id, failure, stored.signal_count)
            return None
        pending = _Pending(source, signals, time.monotonic())
        self._pending[delivery_id] = pending
        self._remembered += len(signals)
        return pending

    def _next_part(self, delivery_id: int, pending: _Pending, room: int) -> FoldPart:
        """The delivery's next ``room`` signals at most, marked taken."""
        signals = pending.signals[pending.done : pending.done + room]
        pending.done += len(signals)
        complete = pending.done >= len(pending.signals)
        return FoldPart(pending.source, delivery_id, signals, complete, pending.recorded)

    def _fold_chunk(self, writer: Writer, chunk: list[FoldPart]) -> None:
        """Fold the parts; a delivery folded to its end, or rejected, is forgotten."""
        for part, result in zip(chunk, self._ingestor.fold_parts(writer, chunk), strict=True):
            pending = self._pending.get(part.delivery_id)
            if pending is not None:
                pending.recorded += result.signals
            if part.complete or result.status == "rejected":
                pending = self._pending.pop(part.delivery_id, None)
                if pending is not None:
                    self._remembered -= len(pending.signals)
