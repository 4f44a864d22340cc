"""The raw-delivery table: every body a sender gave us, accepted or not, with why."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from datetime import datetime

from pydantic import BaseModel

from oncall_tui.core.clock import from_iso, iso

_SECRET_HEADER_PARTS = (
    "authorization",
    "cookie",
    "token",
    "secret",
    "password",
    "api-key",
    "apikey",
    "x-api",
)
REDACTED = "[redacted]"


def redact_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers kept for audit, minus anything that could be a credential.

    Signatures are kept: they are digests, not secrets, and a rerun may need them.
    """
    return {
        name: (REDACTED if any(part in name for part in _SECRET_HEADER_PARTS) else value)
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
) -> int | None:
    """Store a delivery; returns its id, or None when the same delivery is already stored."""
    cursor = conn.execute(
        "INSERT OR IGNORE INTO deliveries (source, delivery_key, received_at, headers, body, status,"
        " http_status, reason, last_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            source,
            delivery_key,
            iso(received_at),
            json.dumps(redact_headers(headers), sort_keys=True),
            body,
            status,
            http_status,
            reason,
            iso(received_at),
        ),
    )
    return cursor.lastrowid if cursor.rowcount else None


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


def received_ids(conn: sqlite3.Connection, limit: int) -> list[tuple[int, str]]:
    """Deliveries committed but not folded yet, oldest first: (id, source)."""
    rows = conn.execute(
        "SELECT id, source FROM deliveries WHERE status = 'received' ORDER BY id LIMIT ?", (limit,)
    ).fetchall()
    return [(int(r[0]), str(r[1])) for r in rows]


def max_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM deliveries").fetchone()[0])


def count_received(conn: sqlite3.Connection) -> int:
    return int(
        conn.execute("SELECT count(*) FROM deliveries WHERE status = 'received'").fetchone()[0]
    )


def get(conn: sqlite3.Connection, delivery_id: int) -> Delivery | None:
    row = conn.execute(f"SELECT {_COLUMNS} FROM deliveries WHERE id = ?", (delivery_id,)).fetchone()
    return _delivery(row) if row else None


def listing(
    conn: sqlite3.Connection, *, rejected_only: bool = False, limit: int = 200
) -> list[Delivery]:
    where = "WHERE status = 'rejected'" if rejected_only else ""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM deliveries {where} ORDER BY id DESC LIMIT ?", (limit,)
    ).fetchall()
    return [_delivery(r) for r in rows]


def rejected_ids(conn: sqlite3.Connection) -> list[int]:
    return [
        int(r[0])
        for r in conn.execute("SELECT id FROM deliveries WHERE status = 'rejected' ORDER BY id")
    ]


def count_rejected(conn: sqlite3.Connection) -> int:
    return int(
        conn.execute("SELECT count(*) FROM deliveries WHERE status = 'rejected'").fetchone()[0]
    )


def _delivery(row: tuple[object, ...]) -> Delivery:
    values = dict(zip([c.strip() for c in _COLUMNS.split(",")], row, strict=True))
    values["headers"] = json.loads(str(values["headers"]))
    values["received_at"] = from_iso(str(values["received_at"]))
    values["last_attempt_at"] = from_iso(str(values["last_attempt_at"]))
    return Delivery.model_validate(values)
