"""Many local deliveries at once (``oncall-tui ingest`` with many files, or NDJSON): committed
in batches, each delivery still isolated, with a summary of what became of them.

One commit per delivery is what a single file costs; a backlog of thousands (an export, a
replay of captured bodies) is committed :data:`BATCH_SIZE` at a time through
:meth:`Ingestor.ingest_many`, where a delivery that fails is rolled back alone and kept as
rejected. Each delivery is read, stored raw and parsed exactly as a single one would be; only
the commits are shared. Input is read lazily, a batch at a time, so memory stays bounded
whatever the length of the input.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from oncall_tui.core import collector
from oncall_tui.ingest.prepare import Prepared, Verify
from oncall_tui.ingest.prepare_ahead import PreparingStoppedError, prepared_batches
from oncall_tui.ingest.record import Ingestor, IngestResult
from oncall_tui.store.checkpoint import NoWal, WalKeeper
from oncall_tui.store.db import BUSY_TIMEOUT_MS, StoreUnavailableError
from oncall_tui.store.journal import Store

BATCH_SIZE = 500
"""Deliveries per transaction: big enough that commits stop mattering, small enough that a
store failure loses little work and progress shows often."""


@dataclass(frozen=True)
class LocalDelivery:
    """One delivery read from a file or an NDJSON line, before it is prepared."""

    body: bytes
    headers: Mapping[str, str]
    verify: Verify
    file: str | None = None
    """The file it was read from; None for stdin."""
    line: int | None = None
    """Its NDJSON line number (1-based), if it came from one."""

    @property
    def where(self) -> str:
        """Where it came from, for messages: ``events.ndjson line 17``, ``line 17`` (stdin)."""
        if self.line is None:
            return self.file or "stdin"
        return f"{self.file} line {self.line}" if self.file else f"line {self.line}"


@dataclass(frozen=True)
class Rejection:
    """A delivery that was refused: kept as rejected (``deliveries --rejected``) with why."""

    delivery: LocalDelivery
    result: IngestResult

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.delivery.file,
            "line": self.delivery.line,
            "delivery_id": self.result.delivery_id,
            "http_status": self.result.http_status,
            "reason": self.result.reason,
        }


@dataclass
class BatchSummary:
    """What became of the deliveries so far: counts, refusals, incidents touched."""

    accepted: int = 0
    duplicate: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    incidents: dict[str, None] = field(default_factory=dict)
    """Incident ids in the order first touched (a dict as an ordered set)."""
    signals: int = 0

    @property
    def rejected(self) -> int:
        return len(self.rejections)

    @property
    def total(self) -> int:
        return self.accepted + self.duplicate + self.rejected

    def count(self, delivery: LocalDelivery, result: IngestResult) -> Rejection | None:
        """Add one result; the rejection if it was one, for the caller to report at once."""
        self.incidents.update(dict.fromkeys(result.incidents))
        self.signals += result.signals
        if result.status == "rejected":
            rejection = Rejection(delivery, result)
            self.rejections.append(rejection)
            return rejection
        if result.status == "duplicate":
            self.duplicate += 1
        else:
            self.accepted += 1
        return None

    def as_json(self) -> dict[str, Any]:
        return {
            "deliveries": self.total,
            "accepted": self.accepted,
            "duplicate": self.duplicate,
            "rejected": self.rejected,
            "signals": self.signals,
            "incidents": list(self.incidents),
            "rejections": [r.as_json() for r in self.rejections],
        }


class BatchStoppedError(Exception):
    """The store failed mid-way (locked, full): batches before ``stopped_at`` are committed."""

    def __init__(self, summary: BatchSummary, stopped_at: str, cause: Exception) -> None:
        super().__init__(
            f"stopped at {stopped_at} ({cause}); the {summary.total} deliveries before it"
            " are committed"
        )
        self.summary = summary
        self.stopped_at = stopped_at


def ndjson_deliveries(
    stream: BinaryIO,
    headers: Mapping[str, str],
    *,
    file: str | None = None,
    verify: Verify = "none",
) -> Iterator[LocalDelivery]:
    """One delivery per non-blank line, its body the line's bytes without the line ending.

    Blank lines (a trailing newline, a separator) are not deliveries. A line that is not JSON
    is still a delivery: it is stored, and refused by the adapter like any unreadable body.
    ``verify`` is ``none`` by default: a line has no headers of its own to carry a signature.
    """
    for number, line in enumerate(stream, start=1):
        body = line.rstrip(b"\r\n")
        if body.strip():
            yield LocalDelivery(body, headers, verify, file=file, line=number)


def ingest_in_batches(
    ingestor: Ingestor,
    source: str,
    deliveries: Iterable[LocalDelivery],
    *,
    batch_size: int = BATCH_SIZE,
    on_rejected: Callable[[Rejection], None] | None = None,
    on_batch: Callable[[BatchSummary], None] | None = None,
) -> BatchSummary:
    """Prepare and commit ``deliveries`` ``batch_size`` per transaction (the first few fewer,
    when a child prepares them); the summary.

    ``on_rejected`` hears of each refusal once its batch is committed (the delivery id is
    known then); ``on_batch`` after each commit, for progress. A store failure raises
    :class:`BatchStoppedError`, saying which delivery was the first not committed. Past one
    batch, the batches are prepared one ahead by a child process
    (:mod:`~oncall_tui.ingest.prepare_ahead`) while this one commits.
    """
    summary = BatchSummary()
    # In this order: the child preparing batches is forked before the checkpointing thread
    # starts, and after the collector froze what exists (the child's pages stay shared).
    with (
        collector.collecting_less(YOUNG_COLLECTION_EVERY),
        prepared_batches(ingestor, source, deliveries, batch_size) as batches,
        checkpointing_beside(ingestor.store) as wal,
    ):
        last: LocalDelivery | None = None
        try:
            for batch, prepared in batches:
                results = _committed(ingestor, wal, batch, prepared, summary)
                for delivery, result in zip(batch, results, strict=True):
                    rejection = summary.count(delivery, result)
                    if rejection is not None and on_rejected is not None:
                        on_rejected(rejection)
                if on_batch is not None:
                    on_batch(summary)
                last = batch[-1]
        except PreparingStoppedError as exc:
            after = f"the delivery after {last.where}" if last else "the first delivery"
            raise BatchStoppedError(summary, after, exc) from exc
    return summary


def _committed(
    ingestor: Ingestor,
    wal: WalKeeper | NoWal,
    batch: list[LocalDelivery],
    prepared: list[Prepared],
    summary: BatchSummary,
) -> list[IngestResult]:
    try:
        with wal.writing():
            results = ingestor.ingest_many(prepared)
    except (sqlite3.Error, StoreUnavailableError) as exc:
        raise BatchStoppedError(summary, batch[0].where, exc) from exc
    wal.after_commit()
    return results


@contextmanager
def checkpointing_beside(store: Store) -> Iterator[WalKeeper | NoWal]:
    """The WAL of ``store``'s file checkpointed on a thread of its own while the block runs.

    Performance: SQLite checkpoints inside the commit that crosses ``wal_autocheckpoint``
    pages, and a batch of 500 deliveries crosses it nearly every time: the commit then copied
    megabytes into the DB and synced it while nothing was parsed or folded, a tenth of the
    batch's time. Beside it (as the receiver does, :mod:`oncall_tui.store.checkpoint`) that
    copy runs while the next batch is prepared and folded. PostgreSQL and a DB in memory have
    no WAL of ours to keep.
    """
    if store.path is None:
        yield NoWal()
        return
    (before,) = store.conn.execute("PRAGMA wal_autocheckpoint").fetchone()
    store.conn.execute("PRAGMA wal_autocheckpoint = 0")
    keeper = WalKeeper(store.path, BUSY_TIMEOUT_MS)
    try:
        yield keeper
    finally:
        keeper.close()
        store.conn.execute(f"PRAGMA wal_autocheckpoint = {int(before)}")


YOUNG_COLLECTION_EVERY = 50_000
"""Objects allocated (net) between two collections of the youngest generation while batches
run (:func:`~oncall_tui.core.collector.collecting_less`); Python's default is 700.

Performance: a batch's transaction keeps its deliveries, signals and cached rows alive until it
commits, so every collection of the youngest generations went over thousands of them, and those
of the oldest over every object the imports made as well: a tenth of the batches' time went to
the collector (0.48 s of 6.1 s for 10,000 deliveries; 0.09 s so). A batch of 500 deliveries
holds ~17,000 at its peak, all freed by reference counting when its transaction ends (no cycle
holds a transaction's tables), so most batches run with no collection at all: 13 µs of the
collector a delivery at 10,000 became 0.4 µs."""
