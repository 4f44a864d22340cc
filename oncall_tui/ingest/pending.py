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
from oncall_tui.ingest.record import Ingestor, mark_unparsable
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

    def remember(self, delivery_id: int, source: str, signals: list[Signal]) -> None:
        if self._remembered + len(signals) <= REMEMBER_SIGNALS:
            self._pending[delivery_id] = _Pending(source, signals)
            self._remembered += len(signals)

    def forget_all(self) -> None:
        """After a failed transaction: progress may have been rolled back, re-read it."""
        self._pending.clear()
        self._remembered = 0

    def fold_some(self, budget_s: float, should_stop: Callable[[], bool]) -> bool:
        """Fold chunks, in one transaction, for about ``budget_s`` or until ``should_stop``.

        Returns whether received deliveries remain. Store failures propagate (the caller
        retries later); the chunks of the failed transaction are folded again then.
        """
        started = time.monotonic()
        with self._ingestor.store.write() as writer:
            for delivery_id, source in deliveries.received_ids(writer.conn, SCAN):
                pending = self._load(writer, delivery_id, source)
                while pending is not None:
                    pending = self._fold_chunk(writer, delivery_id, pending)
                    if time.monotonic() - started >= budget_s or should_stop():
                        return True
        return bool(deliveries.received_ids(self._ingestor.store.conn, 1))

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
        pending = _Pending(source, signals)
        self._pending[delivery_id] = pending
        self._remembered += len(signals)
        return pending

    def _fold_chunk(self, writer: Writer, delivery_id: int, pending: _Pending) -> _Pending | None:
        """Fold the next chunk; returns the delivery while signals remain, else None."""
        chunk = pending.signals[pending.done : pending.done + FOLD_CHUNK]
        complete = pending.done + len(chunk) >= len(pending.signals)
        result = self._ingestor.fold(writer, pending.source, delivery_id, chunk, complete=complete)
        pending.done += len(chunk)
        if complete or result.status == "rejected":
            del self._pending[delivery_id]
            self._remembered -= len(pending.signals)
            return None
        return pending
