"""Recording deliveries: store the raw bytes, fold their signals, reject, rerun.

The store's side of ingestion, after :mod:`oncall_tui.ingest.prepare` checked and parsed a
delivery. Local callers (``oncall-tui ingest``, reruns) fold in the same transaction as the store
(:meth:`Ingestor.ingest_many`); the receiver commits the raw bytes, answers 202, and folds shortly
after (:meth:`Ingestor.receive_many`, :mod:`oncall_tui.ingest.pending`).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from oncall_tui.actions import Rules, reconcile
from oncall_tui.config import Settings
from oncall_tui.core import incidents
from oncall_tui.core.journal import DeliveryAccepted, DeliveryRejected
from oncall_tui.core.models import Signal
from oncall_tui.ingest.prepare import Prepared, Preparer, Refusal, Verify, delivery_key
from oncall_tui.sources import SOURCE_MODULES, UnknownSourceError, get_source
from oncall_tui.sources.base import RawDelivery, SourceError
from oncall_tui.store import deliveries, refusals
from oncall_tui.store.journal import Store, Writer

log = logging.getLogger(__name__)

Status = Literal["accepted", "received", "duplicate", "rejected"]
"""``received``: committed raw, signals not folded yet (the receiver's 202)."""

_OUR_SQL_MISTAKES = (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError)
"""SQL errors that mean a bug in our processing, not a store that cannot commit."""
UNAUTHENTICATED_KEEP_BYTES = 4096
"""Deliveries refused before we know who sent them keep only the start of their headers (as
stored) and of their body: enough to see what knocked, not enough for anyone without
credentials to fill the disk (:mod:`oncall_tui.store.refusals` bounds how many are kept)."""


@dataclass(frozen=True)
class FoldPart:
    """Signals of one stored delivery to fold: all of them, or the next chunk of a big one."""

    source: str
    delivery_id: int
    signals: list[Signal]
    complete: bool = True
    """These are its last: the delivery is then marked accepted."""
    recorded_before: int = 0
    """What its earlier chunks recorded, for the delivery's count."""
    stored_count: int | None = None
    """The signal count its row was stored accepted with, if it was: the row is left alone
    when the fold records as many (an UPDATE rewrites the whole row, body included)."""
    texts: Sequence[str] | None = None
    """Its signals' ``signal.recorded`` texts, if they came spelled (:class:`Prepared`)."""


@dataclass
class IngestResult:
    """What happened to one delivery; ``http_status`` is what the receiver answers."""

    status: Status
    http_status: int
    delivery_id: int | None = None
    reason: str | None = None
    signals: int = 0
    incidents: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "http_status": self.http_status,
            "delivery_id": self.delivery_id,
            "reason": self.reason,
            "signals": self.signals,
            "incidents": self.incidents,
        }


class Ingestor:
    """Records prepared deliveries through one store; its preparer needs none.

    Used by one thread at a time (the store's connection is not shared).
    """

    def __init__(
        self, store: Store, settings: Settings, *, require_credentials: bool = False
    ) -> None:
        """``require_credentials``: refuse HTTP deliveries for sources without any configured
        credential (the receiver sets it when it binds to a non-loopback address)."""
        self.store = store
        self.settings = settings
        self.preparer = Preparer(settings, store.clock, require_credentials=require_credentials)
        self.rules = Rules.from_settings(settings)
        self._reconciled: dict[str, dict[str, object]] = {}

    def ingest(
        self, source_name: str, body: bytes, headers: Mapping[str, str], *, verify: Verify = "all"
    ) -> IngestResult:
        """Store and process one delivery; the result says what to answer the sender."""
        return self.ingest_many([self.prepare(source_name, body, headers, verify=verify)])[0]

    def prepare(
        self,
        source_name: str,
        body: bytes,
        headers: Mapping[str, str],
        *,
        verify: Verify = "all",
        from_http: bool = False,
    ) -> Prepared:
        """:meth:`Preparer.prepare` with this ingestor's settings and store clock, for callers
        that prepare and record on one thread."""
        return self.preparer.prepare(source_name, body, headers, verify=verify, from_http=from_http)

    def ingest_many(self, batch: Sequence[Prepared]) -> list[IngestResult]:
        """Commit prepared deliveries in one transaction, each isolated from the others' failures.

        One commit for many deliveries is what lets the receiver keep up with a storm; a
        delivery that fails in processing is still rolled back alone and kept as rejected.
        """
        with self.store.write() as writer:
            if len(batch) > 1:
                results = self._store_together(writer, batch)
                if results is not None:
                    return results
            return [self._store(writer, prepared, fold=True) for prepared in batch]

    def _store_together(
        self, writer: Writer, batch: Sequence[Prepared]
    ) -> list[IngestResult] | None:
        """The batch under one savepoint, each delivery folded as alone but without one of its
        own; None, with nothing kept, if any delivery's fold failed.

        Performance: a savepoint per delivery needs a flush before it, which wrote each
        delivery's held signal, alert and journal rows one statement each and was most of a
        batch's time. The journal rows are the same, in the same order: each delivery is
        stored, folded, reconciled and marked accepted before the next, as one by one. A
        failure is rare (a bug of ours): the caller then does the batch again a savepoint each,
        so the failed delivery is rolled back alone and kept as rejected.
        """
        writer.flush()  # a rollback to the savepoint forgets only what follows it
        writer.tables.expect_alerts(key for prepared in batch for key in prepared.alert_keys)
        writer.conn.execute("SAVEPOINT store_batch")
        try:
            with writer.tables.holding_incidents():
                results = self._store_all(writer, batch, fold=True, alone=False)
        except sqlite3.DatabaseError as exc:
            if not isinstance(exc, _OUR_SQL_MISTAKES):
                self._reconciled.clear()
                raise  # the store itself failed (locked, full, corrupt): retry the batch
            self._roll_back(writer, "store_batch")
            return None
        except Exception:  # a bug of ours: found again, and isolated, one delivery at a time
            self._roll_back(writer, "store_batch")
            return None
        writer.conn.execute("RELEASE store_batch")
        return results

    def receive_many(self, batch: Sequence[Prepared], *, durable: bool) -> list[IngestResult]:
        """Commit prepared deliveries raw, in one transaction, marked ``received`` for the fold.

        This is what the receiver's 202 waits for: the bytes are durable and deduplicated; the
        signals are folded afterwards by :class:`~oncall_tui.ingest.pending.PendingFolds`, which also
        picks up whatever a crash left received but not folded. ``durable``: this commit, the
        acknowledgement, survives a power cut (``synchronous=FULL``); the folds need not, since
        a fold lost with the OS leaves its deliveries received, and they are folded again.
        """
        with self.store.write(durable=durable) as writer:
            return self._store_all(writer, batch, fold=False)

    def _store_all(
        self, writer: Writer, batch: Sequence[Prepared], *, fold: bool, alone: bool = True
    ) -> list[IngestResult]:
        """:meth:`_store` of each, their rows inserted in one statement (on PostgreSQL one
        round trip, not one per delivery). A batch with a refusal in it is stored one by one,
        the rejected in their place among the others."""
        if any(prepared.refusal is not None for prepared in batch):
            return [self._store(writer, p, fold=fold, alone=alone) for p in batch]
        ids = deliveries.insert_many(writer.conn, [_new_delivery(p, fold) for p in batch])
        return [
            self._stored(writer, prepared, delivery_id, fold=fold, alone=alone)
            for prepared, delivery_id in zip(batch, ids, strict=True)
        ]

    def _store(
        self, writer: Writer, prepared: Prepared, *, fold: bool, alone: bool = True
    ) -> IngestResult:
        """``alone``: its fold in a savepoint of its own (otherwise the caller holds one, and
        rolls back to it if the fold raises)."""
        raw = prepared.raw
        if prepared.refusal is not None:
            return self._reject(writer, raw, prepared.refusal)
        (delivery_id,) = deliveries.insert_many(writer.conn, [_new_delivery(prepared, fold)])
        return self._stored(writer, prepared, delivery_id, fold=fold, alone=alone)

    def _stored(
        self,
        writer: Writer,
        prepared: Prepared,
        delivery_id: int | None,
        *,
        fold: bool,
        alone: bool = True,
    ) -> IngestResult:
        """What becomes of a delivery once its row is inserted as ``delivery_id`` (None: it was
        already stored)."""
        raw = prepared.raw
        if delivery_id is None:
            return self._duplicate(writer, prepared)
        if not fold:
            return IngestResult("received", 202, delivery_id, None, prepared.signal_count)
        signals, texts = prepared.signals_to_fold(delivery_id)
        part = FoldPart(raw.source, delivery_id, signals, stored_count=len(signals), texts=texts)
        if not alone:
            return self._fold_unguarded(writer, [part])[0]
        return self.fold_parts(writer, [part])[0]

    @staticmethod
    def _duplicate(writer: Writer, prepared: Prepared) -> IngestResult:
        """A delivery already stored: its attempt counted on the stored row."""
        raw = prepared.raw
        existing = deliveries.record_retry(writer.conn, raw.source, _key(prepared), raw.received_at)
        return IngestResult(
            "duplicate", 202, existing, "already stored (sender retry or duplicate)"
        )

    def rerun(self, delivery_id: int) -> IngestResult:
        """Feed a stored delivery through today's adapters; what was already recorded is skipped."""
        stored = deliveries.get(self.store.conn, delivery_id)
        if stored is None:
            raise LookupError(f"no delivery {delivery_id}")
        if stored.http_status in (401, 403):
            return IngestResult(
                "rejected", stored.http_status, delivery_id, "credentials were refused; not rerun"
            )
        raw = RawDelivery(stored.source, stored.body, stored.headers, stored.received_at, stored.id)
        try:
            source = get_source(stored.source)
        except UnknownSourceError as exc:
            return IngestResult("rejected", 404, delivery_id, str(exc))
        signals, failure = self.preparer.parse(source, raw)
        with self.store.write() as writer:
            if failure is not None:
                return mark_unparsable(writer, delivery_id, failure)
            key = delivery_key(source, raw)
            clash = writer.conn.execute(
                "SELECT id FROM deliveries WHERE source = ? AND delivery_key = ? AND id != ?",
                (stored.source, key, delivery_id),
            ).fetchone()
            result = self.fold(writer, stored.source, delivery_id, signals)
            if result.status == "accepted" and clash is None:
                deliveries.set_outcome(
                    writer.conn,
                    delivery_id,
                    status="accepted",
                    http_status=202,
                    reason=None,
                    signal_count=result.signals,
                    delivery_key=key,
                    keep_key=False,
                )
            return result

    # --- steps ------------------------------------------------------------------------------

    def fold(
        self,
        writer: Writer,
        source_name: str,
        delivery_id: int,
        signals: list[Signal],
        *,
        complete: bool = True,
        recorded_before: int = 0,
    ) -> IngestResult:
        """Fold a stored delivery's signals into incidents; ``complete`` marks it accepted."""
        part = FoldPart(source_name, delivery_id, signals, complete, recorded_before)
        return self.fold_parts(writer, [part])[0]

    def fold_parts(self, writer: Writer, parts: Sequence[FoldPart]) -> list[IngestResult]:
        """Fold the parts in one savepoint; if that fails, each again in its own.

        The receiver folds a delivery of thousands of signals in chunks, each in its own
        transaction, so it keeps committing meanwhile, and a storm of one-alert deliveries
        several at a time (one savepoint, one flush and one reconcile for them all). Folding a
        chunk again (after a crash between chunks) records nothing twice: a signal already
        recorded is a duplicate. A part that fails alone is rolled back alone and its delivery
        kept as rejected; the others are folded as if it had not been there.
        """
        conn = writer.conn
        writer.flush()  # a rollback to the savepoint forgets only what follows it
        if sum(len(part.signals) for part in parts) > 1:  # one statement for them all
            writer.tables.expect_alerts(s.alert_key for part in parts for s in part.signals)
        conn.execute("SAVEPOINT apply_signals")
        try:
            with writer.tables.holding_incidents():
                counts = self._record_parts(writer, parts)
        except sqlite3.DatabaseError as exc:
            if not isinstance(exc, _OUR_SQL_MISTAKES):
                self._reconciled.clear()
                raise  # the store itself failed (locked, full, corrupt): retry the delivery (503)
            return self._refold_alone(writer, parts, exc)
        except Exception as exc:  # a bug of ours must not lose the delivery
            return self._refold_alone(writer, parts, exc)
        conn.execute("RELEASE apply_signals")
        return self._all_folded(writer, parts, counts)

    def _fold_unguarded(self, writer: Writer, parts: Sequence[FoldPart]) -> list[IngestResult]:
        """:meth:`fold_parts` inside a savepoint the caller holds: a failure propagates."""
        return self._all_folded(writer, parts, self._record_parts(writer, parts))

    def _record_parts(
        self, writer: Writer, parts: Sequence[FoldPart]
    ) -> list[tuple[int, list[str]]]:
        """Each part's signals recorded (how many, the incidents touched), then reconciled."""
        counts: list[tuple[int, list[str]]] = []
        touched: dict[str, None] = {}
        for part in parts:
            recorded, ids = self._record(writer, part)
            counts.append((recorded, ids))
            touched.update(dict.fromkeys(ids))
        reconcile(writer, touched, self.rules, seen=self._reconciled)
        return counts

    def _all_folded(
        self, writer: Writer, parts: Sequence[FoldPart], counts: list[tuple[int, list[str]]]
    ) -> list[IngestResult]:
        accepted: list[tuple[int, int]] = []
        results = [
            self._folded(writer, part, recorded, ids, accepted)
            for part, (recorded, ids) in zip(parts, counts, strict=True)
        ]
        # Performance: one statement for the chunk's deliveries, not one each (on PostgreSQL
        # each statement is psycopg's own work and the server's, a storm's fold pays it per
        # delivery).
        deliveries.mark_accepted(writer.conn, accepted)
        return results

    def _refold_alone(
        self, writer: Writer, parts: Sequence[FoldPart], exc: Exception
    ) -> list[IngestResult]:
        if len(parts) == 1:
            part = parts[0]
            return [self._processing_failed(writer, part.source, part.delivery_id, exc)]
        self._roll_back_fold(writer)
        return [result for part in parts for result in self.fold_parts(writer, [part])]

    def _folded(
        self,
        writer: Writer,
        part: FoldPart,
        recorded: int,
        touched: list[str],
        accepted: list[tuple[int, int]],
    ) -> IngestResult:
        """``accepted`` gets (signal count, delivery id) of the row to mark accepted."""
        if not part.complete:
            # The row is left alone until the last chunk: an UPDATE rewrites the whole row,
            # body included, and a storm's body is megabytes.
            return IngestResult("received", 202, part.delivery_id, None, recorded, touched)
        total = part.recorded_before + recorded
        if total != part.stored_count:
            accepted.append((total, part.delivery_id))
        writer.append(
            DeliveryAccepted(part.delivery_id, part.source, total), actor=f"source:{part.source}"
        )
        return IngestResult("accepted", 202, part.delivery_id, None, recorded, touched)

    def _roll_back_fold(self, writer: Writer) -> None:
        self._roll_back(writer, "apply_signals")

    def _roll_back(self, writer: Writer, savepoint: str) -> None:
        self._reconciled.clear()  # what it remembers was rolled back with the rest
        writer.conn.execute(f"ROLLBACK TO {savepoint}")
        writer.forget()  # and so were the rows held back and the ones its cache remembers
        writer.conn.execute(f"RELEASE {savepoint}")

    def _processing_failed(
        self, writer: Writer, source_name: str, delivery_id: int, exc: Exception
    ) -> IngestResult:
        """Keep the delivery, marked rejected with why, so a rerun can process it after a fix."""
        self._roll_back_fold(writer)
        log.error("processing delivery %s failed", delivery_id, exc_info=exc)
        reason = f"processing error: {type(exc).__name__}: {exc}"
        deliveries.set_outcome(
            writer.conn,
            delivery_id,
            status="rejected",
            http_status=400,
            reason=reason,
            signal_count=0,
            delivery_key=None,
            keep_key=False,
        )
        writer.append(
            DeliveryRejected(delivery_id, source_name, reason), actor=f"source:{source_name}"
        )
        return IngestResult("rejected", 400, delivery_id, reason)

    def _record(self, writer: Writer, part: FoldPart) -> tuple[int, list[str]]:
        touched: dict[str, None] = {}
        recorded = 0
        delivery_id, texts = part.delivery_id, part.texts
        for index, signal in enumerate(part.signals):
            if signal.delivery_id != delivery_id:  # as parsed: stamped here with its delivery
                signal = signal.model_copy(update={"delivery_id": delivery_id})
            # One reading of the clock for a signal's entries: they are one decision, made at
            # one moment (reading the clock and spelling its time for each entry was ~6 % of
            # a storm's fold).
            append = partial(writer.append, ts=writer.clock.now())
            text = None if texts is None else texts[index]
            ids = incidents.record_signal(signal, append, writer.tables, self.rules.grouping, text)
            if ids is not None:
                recorded += 1
                touched.update(dict.fromkeys(ids))
        return recorded, list(touched)

    def _reject(self, writer: Writer, raw: RawDelivery, refusal: Refusal) -> IngestResult:
        body, headers, reason = raw.body, raw.headers, refusal.reason
        if refusal.unauthenticated:
            # Anyone can send these, as fast as they like: every one is counted, only the
            # minute's first few are kept, and those only as a capped summary.
            known = raw.source in SOURCE_MODULES
            counter = raw.source if known else refusals.UNKNOWN_SOURCE
            at, status = raw.received_at, refusal.http_status
            if not refusals.count(writer.conn, counter, at, status):
                return IngestResult("rejected", status, None, f"{reason} (counted, not stored)")
            limit = UNAUTHENTICATED_KEEP_BYTES
            headers, header_bytes = refusals.summary_headers(raw.headers, limit)
            cut = [f"first {limit} of {header_bytes} header bytes"] if header_bytes > limit else []
            if len(body) > limit:
                body = body[:limit]
                cut.append(f"first {limit} of {len(raw.body)} bytes")
            if cut:
                reason = f"{reason} ({'; '.join(cut)} kept)"
        delivery_id = deliveries.insert(
            writer.conn,
            source=raw.source,
            delivery_key=None,
            received_at=raw.received_at,
            headers=headers,
            body=body,
            status="rejected",
            http_status=refusal.http_status,
            reason=reason,
        )
        writer.append(
            DeliveryRejected(delivery_id, raw.source, reason, refusal.http_status),
            actor=f"source:{raw.source}",
        )
        return IngestResult("rejected", refusal.http_status, delivery_id, reason)


def _new_delivery(prepared: Prepared, fold: bool) -> deliveries.NewDelivery:
    """The row of a delivery not refused: ``accepted`` with the signal count the fold will most
    often record (then it has no need to update the row), or ``received`` with none yet."""
    raw = prepared.raw
    status, count = ("accepted", prepared.signal_count) if fold else ("received", 0)
    headers = prepared.stored_headers
    return (raw.source, _key(prepared), raw.received_at, headers, raw.body, status, count)


def _key(prepared: Prepared) -> str:
    """The delivery key of a delivery that was not refused (every one of those has one)."""
    assert prepared.key is not None
    return prepared.key


def mark_unparsable(
    writer: Writer, delivery_id: int, failure: SourceError, signal_count: int = 0
) -> IngestResult:
    """A stored delivery today's adapter refuses: kept, rejected with why (rerun after a fix)."""
    deliveries.set_outcome(
        writer.conn,
        delivery_id,
        status="rejected",
        http_status=failure.status,
        reason=failure.reason,
        signal_count=signal_count,
    )
    return IngestResult("rejected", failure.status, delivery_id, failure.reason)
