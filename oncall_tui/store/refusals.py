"""Refusals of senders we could not authenticate, counted per source and minute.

Anyone who can reach the receiver can make it refuse requests (a wrong token, a bad signature,
a source that does not exist), as fast as the network allows. Each such request used to be kept
whole, headers and all, so a flood of them filled the disk and real alerts were then answered
503. Now every one is counted here, and only the first :data:`KEPT_PER_MINUTE` of each minute,
across all sources, are kept as deliveries rows, as a capped summary
(:func:`summary_headers`, and the start of the body): what knocked stays visible, and the cost
of a flood is bounded per minute whatever the requests carry.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from oncall_tui.store.deliveries import redact_headers

KEPT_PER_MINUTE = 20
"""Refused deliveries kept as rows per minute, all sources together; the rest are only counted.
Per minute and not per source: a flood naming a new unknown source in every request would
otherwise get its own allowance each time."""
UNKNOWN_SOURCE = "(unknown)"
"""The one counter for every source name that is not a known source, for the same reason."""


@dataclass(frozen=True)
class RefusalCount:
    minute: str
    """UTC, ``YYYY-MM-DDTHH:MM``."""
    source: str
    http_status: int
    count: int
    kept: int
    """How many of ``count`` were kept as deliveries rows."""

    @property
    def unstored(self) -> int:
        return self.count - self.kept


def minute_of(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


def count(conn: sqlite3.Connection, source: str, at: datetime, http_status: int) -> bool:
    """Count one refusal; True when it should also be kept as a row (the minute's first few).

    Runs inside the caller's write transaction, so concurrent writers count exactly.
    """
    minute = minute_of(at)
    (kept,) = conn.execute(
        "SELECT coalesce(sum(kept), 0) FROM refusals WHERE minute = ?", (minute,)
    ).fetchone()
    keep = int(kept) < KEPT_PER_MINUTE
    conn.execute(
        "INSERT INTO refusals (minute, source, http_status, count, kept) VALUES (?, ?, ?, 1, ?)"
        " ON CONFLICT (minute, source, http_status)"
        " DO UPDATE SET count = count + 1, kept = kept + excluded.kept",
        (minute, source, http_status, int(keep)),
    )
    return keep


def recent(conn: sqlite3.Connection, limit: int = 50) -> list[RefusalCount]:
    """The latest counters, newest minute first: what ``deliveries --rejected`` shows beside
    the rows, so refusals that were only counted are seen too."""
    rows = conn.execute(
        "SELECT minute, source, http_status, count, kept FROM refusals"
        " ORDER BY minute DESC, count DESC, source, http_status LIMIT ?",
        (limit,),
    ).fetchall()
    return [RefusalCount(str(m), str(s), int(h), int(c), int(k)) for m, s, h, c, k in rows]


def in_minute(conn: sqlite3.Connection, at: datetime) -> tuple[int, int]:
    """(refused, kept) in the minute of ``at``, all sources together."""
    refused, kept = conn.execute(
        "SELECT coalesce(sum(count), 0), coalesce(sum(kept), 0) FROM refusals WHERE minute = ?",
        (minute_of(at),),
    ).fetchone()
    return int(refused), int(kept)


def summary_headers(headers: Mapping[str, str], limit: int) -> tuple[dict[str, str], int]:
    """The headers as they are stored (credentials redacted), cut so that their stored JSON is
    at most ``limit`` bytes; and the size the whole of them would have had.

    Whole headers are kept in name order while they fit, then the start of the next one's value.
    """
    redacted = redact_headers(headers)
    full = _stored_size(redacted)
    if full <= limit:
        return redacted, full
    kept: dict[str, str] = {}
    used = 2  # the braces
    for name in sorted(redacted):
        value = redacted[name]
        separator = 2 if kept else 0  # ", " between entries
        overhead = separator + len(json.dumps(name)) + 2  # ": "
        entry = overhead + len(json.dumps(value))
        if used + entry <= limit:
            kept[name] = value
            used += entry
            continue
        room = limit - used - overhead - 2  # the value's quotes
        if room > 0:
            kept[name] = _cut_to(value, room)
        break
    return kept, full


def _stored_size(headers: Mapping[str, str]) -> int:
    # As deliveries.insert serialises them.
    return len(json.dumps(dict(headers), sort_keys=True))


def _cut_to(value: str, room: int) -> str:
    """The longest start of ``value`` whose JSON escaping (without quotes) fits ``room``."""
    cut = value[:room]
    while (size := len(json.dumps(cut)) - 2) > room:
        # Escapes take up to 6 bytes a character: shrink in proportion, then by one.
        cut = cut[: min(len(cut) - 1, len(cut) * room // size)]
    return cut
