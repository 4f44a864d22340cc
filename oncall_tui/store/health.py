"""The facts behind the pipeline's health, read from the DB (judged in :mod:`core.health`).

The deliveries table is never pruned and has no index on the time of a source's newest
delivery, so that is found by id: the unique ``(source, delivery_key)`` index answers "newest
id of this source" without touching the rows, and one point read gives that delivery's latest
attempt (a re-sent, unchanged payload updates it). A re-send of an *older* payload while a newer
one exists is not seen: the newest is re-sent with it in practice (pollers send every group on
each poll), and the price of seeing it would be a scan of every row.

:class:`NewestDeliveries` keeps those ids between reads, so the dashboard's tick reads only the
rows added since the last one.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable
from datetime import datetime, timedelta

from oncall_tui.config import Settings
from oncall_tui.core.clock import from_iso, iso
from oncall_tui.core.health import Exporter, PipelineHealth, SourceExpectation, assess
from oncall_tui.sources import SOURCE_MODULES
from oncall_tui.store import deliveries
from oncall_tui.store.lease import live_holder

EXPORT_LEASE = "export"
"""The lease the exporter holds while it keeps the context files current."""


def expectations(settings: Settings) -> list[SourceExpectation]:
    """Every source the configuration names (``[sources.X]``, ``[pollers.X]``), with its silence
    threshold: its own ``silence_s``, else ``[health] silence_s``."""
    polled = {name for name in ("alertmanager", "pagerduty") if getattr(settings.pollers, name)}
    names = sorted(set(settings.sources) | polled)
    return [
        SourceExpectation(
            name,
            settings.source(name).silence_s or settings.health.silence_s,
            polled=name in polled,
        )
        for name in names
    ]


class NewestDeliveries:
    """Per source, the id of its newest stored (not refused) delivery, kept between reads.

    Refused deliveries carry no key, so ``delivery_key IS NOT NULL`` leaves them out: a sender
    whose every request is refused brings no alerts, and must not look alive. Safe to share
    between threads (the dashboard reads from workers).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._newest: dict[str, int] = {}
        self._read_up_to: int | None = None

    def read(self, conn: sqlite3.Connection) -> dict[str, datetime]:
        """Source → when its newest delivery was last attempted."""
        with self._lock:
            self._catch_up(conn)
            if not self._newest:
                return {}
            ids = list(self._newest.values())
            marks = ",".join("?" * len(ids))
            rows = conn.execute(
                f"SELECT source, last_attempt_at FROM deliveries WHERE id IN ({marks})", ids
            ).fetchall()
            return {str(source): from_iso(str(at)) for source, at in rows}

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        if self._read_up_to is None:
            self._read_up_to = deliveries.max_id(conn)
            # Every source the receiver accepts is a known module: one index range each.
            for source in SOURCE_MODULES:
                row = conn.execute(
                    "SELECT max(id) FROM deliveries WHERE source = ? AND delivery_key IS NOT NULL"
                    " AND id <= ?",
                    (source, self._read_up_to),
                ).fetchone()
                if row[0] is not None:
                    self._newest[source] = int(row[0])
        rows = conn.execute(
            "SELECT source, max(id) FROM deliveries WHERE id > ? AND delivery_key IS NOT NULL"
            " GROUP BY source",
            (self._read_up_to,),
        ).fetchall()
        for source, newest in rows:
            self._newest[str(source)] = int(newest)
        self._read_up_to = max([self._read_up_to, *self._newest.values()])


def active_sessions(conn: sqlite3.Connection, now: datetime, end_after: timedelta) -> int:
    """Sessions not ended and seen within ``end_after`` (the ones still told about incidents)."""
    row = conn.execute(
        "SELECT count(*) FROM sessions WHERE ended_at IS NULL AND last_seen >= ?",
        (iso(now - end_after),),
    ).fetchone()
    return int(row[0])


def exporter(conn: sqlite3.Connection, wall_now: float | None = None) -> Exporter | None:
    """Who holds the export lease now (wall-clock time: see :mod:`store.lease`)."""
    holder = live_holder(conn, EXPORT_LEASE, time.time() if wall_now is None else wall_now)
    return None if holder is None else Exporter(holder.program, holder.host, holder.pid)


def read_health(
    conn: sqlite3.Connection,
    settings: Settings,
    now: datetime,
    *,
    agent_errors: int,
    newest: NewestDeliveries | None = None,
    expected: Iterable[SourceExpectation] | None = None,
    wall_now: float | None = None,
) -> PipelineHealth:
    """Gather and judge. ``agent_errors`` comes from the agents' log beside the DB (read by the
    caller: that log belongs to a layer above the store)."""
    last = (newest or NewestDeliveries()).read(conn)
    return assess(
        expectations(settings) if expected is None else expected,
        last,
        now,
        policy_mode=settings.policy.mode,
        exporter=exporter(conn, wall_now),
        agent_errors=agent_errors,
        backlog=deliveries.count_received(conn),
        active_sessions=active_sessions(
            conn, now, timedelta(seconds=settings.sessions.end_after_s)
        ),
    )
