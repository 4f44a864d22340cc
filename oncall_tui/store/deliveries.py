"""The raw-delivery table: every body a sender gave us, accepted or not, with why."""

from __future__ import annotations

import functools
import json
import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime

from pydantic import BaseModel

from oncall_tui.core.clock import from_iso, iso
from oncall_tui.store.schema import DELIVERY_STATUS_INDEXED

_RECEIVED = f"status = 'received' AND {DELIVERY_STATUS_INDEXED}"
_REJECTED = f"status = 'rejected' AND {DELIVERY_STATUS_INDEXED}"
"""The deliveries of a status looked up by it, in the terms of the partial index by status
(SQLite uses it only for a query that names them)."""

_SECRET_NAME_PARTS = (
    "auth",  # Authorization, Proxy-Authorization, X-Auth, X-Auth-Token, X-Sentry-Auth...
    "key",  # X-Api-Key, DD-API-KEY, X-Access-Key, apikey...
    "token",
    "secret",
    "passw",
    "pwd",
    "credential",
    "cookie",
    "session",
    "jwt",
    "signature",
)
"""Parts of a header name (lower-cased, ``_`` read as ``-``) that mark it as a credential.

A substring rule rather than a list of names: senders and proxies invent their own header for
the same secret, and an unusual one must not slip through. Signatures are among them: reruns do
not verify signatures again (a delivery refused for its credentials is never rerun), so a stored
signature has no use left, while beside the stored body it is a ready-made signed request that
anyone who can read the DB could replay.
"""
_SECRET_VALUE_PREFIXES = ("bearer ", "basic ", "token ", "digest ")
"""Whatever a header is called, a value in an Authorization scheme is a credential."""
REDACTED = "[redacted]"
_encode_headers = json.JSONEncoder(sort_keys=True).encode
"""``json.dumps(headers, sort_keys=True)``, the stored form, without building an encoder per
delivery."""


def is_secret_header(name: str, value: str) -> bool:
    if _is_secret_name(name):
        return True
    return value.strip().lower().startswith(_SECRET_VALUE_PREFIXES)


@functools.lru_cache(maxsize=256)
def _is_secret_name(name: str) -> bool:
    # Performance: a sender sends the same few names with every delivery (a storm's thousands),
    # and the rule tries every part on each.
    normalised = name.strip().lower().replace("_", "-")
    return any(part in normalised for part in _SECRET_NAME_PARTS)


def stored_headers(headers: Mapping[str, str]) -> str:
    """The text a delivery's headers are stored as: redacted, JSON."""
    return _encode_headers(redact_headers(headers))


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers kept for audit, minus anything that could be a credential (see above).

    Applied when a delivery is stored and again when one is read, so rows stored under an older,
    narrower rule do not show their secrets either.
    """
    return {
        name: (REDACTED if is_secret_header(name, value) else value)
        for name, value in headers.items()
    }


class Delivery(BaseModel):
    id: int
    source: str
    delivery_key: str | None
    received_at: datetime
    headers: dict[str, str]
    body: bytes
    status: str
    http_status: int
    reason: str | None
    signal_count: int
    attempts: int
    last_attempt_at: datetime


_COLUMNS = (
    "id, source, delivery_key, received_at, headers, body, status, http_status, reason, signal_count,"
    " attempts, last_attempt_at"
)


def insert(
    conn: sqlite3.Connection,
    *,
    source: str,
    delivery_key: str | None,
    received_at: datetime,
    headers: Mapping[str, str],
    body: bytes,
    status: str,
    http_status: int,
    reason: str | None,
    signal_count: int = 0,
) -> int | None:
    """Store a delivery; returns its id, or None when the same delivery is already stored."""
    received = iso(received_at)
    cursor = conn.execute(
        "INSERT OR IGNORE INTO deliveries (source, delivery_key, received_at, headers, body, status,"
        " http_status, reason, signal_count, last_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            source,
            delivery_key,
            received,
            stored_headers(headers),
            body,
            status,
            http_status,
            reason,
            signal_count,
            received,
        ),
    )
    return cursor.lastrowid if cursor.rowcount else None


ROWS_PER_STATEMENT = 64
"""Rows of one :func:`insert_many` statement at most (each row binds ten values)."""

NewDelivery = tuple[str, str, datetime, str, bytes, str, int]
"""A delivery to store by :func:`insert_many`: source, delivery key, received at, headers as
stored (:func:`stored_headers`), body, status, signal count."""


def insert_many(conn: sqlite3.Connection, batch: Sequence[NewDelivery]) -> list[int | None]:
    """Store deliveries accepted by the sender's rules (202); the id of each, or None for one
    already stored (a retry, or the same delivery earlier in ``batch``), as :func:`insert` one
    by one would say.

    Performance: on PostgreSQL every ``INSERT`` answered is a round trip, and the receiver's
    batch waited for one per delivery while their senders waited for their 202; on SQLite a
    statement per delivery was a tenth of a batch's fold. Here a statement takes a power of two
    rows, up to :data:`ROWS_PER_STATEMENT` (13 deliveries: 8, 4 and 1), so that there are only
    a few texts: each is prepared once, and translated once for PostgreSQL (50 ms for one of
    100 rows).
    """
    ids: list[int | None] = []
    start = 0
    while start < len(batch):
        size = min(ROWS_PER_STATEMENT, 1 << (len(batch) - start).bit_length() - 1)
        chunk = batch[start : start + size]
        start += size
        values: list[object] = []
        for source, key, at, headers, body, status, signal_count in chunk:
            received = iso(at)
            values += (
                source,
                key,
                received,
                headers,
                body,
                status,
                202,
                None,
                signal_count,
                received,
            )
        rows = conn.execute(_insert_many_sql(size), values).fetchall()
        # RETURNING's order is not promised: the rows are told apart by their unique key.
        stored = {(str(source), str(key)): int(id_) for id_, source, key in rows}
        for source, key, *_ in chunk:
            ids.append(stored.pop((source, key), None))
    return ids


@functools.lru_cache(maxsize=8)
def _insert_many_sql(rows: int) -> str:
    row = "(" + ", ".join("?" * 10) + ")"
    return (
        "INSERT OR IGNORE INTO deliveries (source, delivery_key, received_at, headers, body,"
        " status, http_status, reason, signal_count, last_attempt_at)"
        f" VALUES {', '.join([row] * rows)} RETURNING id, source, delivery_key"
    )


def record_retry(conn: sqlite3.Connection, source: str, delivery_key: str, at: datetime) -> int:
    """Count another attempt of an already stored delivery; returns the stored id."""
    conn.execute(
        "UPDATE deliveries SET attempts = attempts + 1, last_attempt_at = ? WHERE source = ? AND delivery_key = ?",
        (iso(at), source, delivery_key),
    )
    row = conn.execute(
        "SELECT id FROM deliveries WHERE source = ? AND delivery_key = ?", (source, delivery_key)
    ).fetchone()
    return int(row[0])


def set_outcome(
    conn: sqlite3.Connection,
    delivery_id: int,
    *,
    status: str,
    http_status: int,
    reason: str | None,
    signal_count: int,
    delivery_key: str | None = None,
    keep_key: bool = True,
) -> None:
    if keep_key:
        conn.execute(
            "UPDATE deliveries SET status = ?, http_status = ?, reason = ?, signal_count = ? WHERE id = ?",
            (status, http_status, reason, signal_count, delivery_id),
        )
    else:
        conn.execute(
            "UPDATE deliveries SET status = ?, http_status = ?, reason = ?, signal_count = ?, delivery_key = ?"
            " WHERE id = ?",
            (status, http_status, reason, signal_count, delivery_key, delivery_id),
        )


def mark_accepted(conn: sqlite3.Connection, rows: list[tuple[int, int]]) -> None:
    """Deliveries folded: each (signal count, id) marked accepted (202, no reason)."""
    if rows:
        conn.executemany(
            "UPDATE deliveries SET status = 'accepted', http_status = 202, reason = NULL,"
            " signal_count = ? WHERE id = ?",
            rows,
        )


def received_ids(conn: sqlite3.Connection, limit: int) -> list[tuple[int, str]]:
    """Deliveries committed but not folded yet, oldest first: (id, source)."""
    rows = conn.execute(
        f"SELECT id, source FROM deliveries WHERE {_RECEIVED} ORDER BY id LIMIT ?",
        (limit,),
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def max_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM deliveries").fetchone()[0])


def count_received(conn: sqlite3.Connection) -> int:
    return int(conn.execute(f"SELECT count(*) FROM deliveries WHERE {_RECEIVED}").fetchone()[0])


def get(conn: sqlite3.Connection, delivery_id: int) -> Delivery | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return _delivery(row) if row else None


def listing(
    conn: sqlite3.Connection, *, rejected_only: bool = False, limit: int = 200
) -> list[Delivery]:
    where = f"WHERE {_REJECTED}" if rejected_only else ""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM deliveries {where} ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_delivery(r) for r in rows]


def rejected_ids(conn: sqlite3.Connection) -> list[int]:
    return [
        int(r[0]) for r in conn.execute(f"SELECT id FROM deliveries WHERE {_REJECTED} ORDER BY id")
    ]


def count_rejected(conn: sqlite3.Connection) -> int:
    return int(conn.execute(f"SELECT count(*) FROM deliveries WHERE {_REJECTED}").fetchone()[0])


def _delivery(row: tuple[object, ...]) -> Delivery:
    values = dict(zip([c.strip() for c in _COLUMNS.split(",")], row, strict=True))
    values["headers"] = redact_headers(json.loads(str(values["headers"])))
    values["received_at"] = from_iso(str(values["received_at"]))
    values["last_attempt_at"] = from_iso(str(values["last_attempt_at"]))
    return Delivery.model_validate(values)
