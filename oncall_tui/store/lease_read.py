"""A lease's stored value, read with the standard library alone.

The hook asks, on its way to a write, whether a ``serve`` process answers for this DB
(:mod:`oncall_tui.server.local_api`); importing :mod:`oncall_tui.store.lease` (the write side)
would cost it more than the answer.
"""

from __future__ import annotations

import json
import sqlite3
import time

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing on every hook call
if TYPE_CHECKING:
    from typing import Any


def lease_key(name: str) -> str:
    """The ``meta`` row holding lease ``name``."""
    return f"lease:{name}"


def lease_value(conn: sqlite3.Connection, name: str) -> dict[str, Any] | None:
    """The stored JSON object of lease ``name``, live or run out; None if absent or unreadable."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (lease_key(name),)).fetchone()
    if row is None:
        return None
    try:
        value = json.loads(row[0])
    except (ValueError, TypeError):
        return None
    return value if isinstance(value, dict) else None


def live_details(
    conn: sqlite3.Connection, name: str, now: float | None = None
) -> dict[str, str] | None:
    """The details its holder published with lease ``name``, while the lease is live."""
    value = lease_value(conn, name)
    if value is None:
        return None
    until, details = value.get("until"), value.get("details")
    if not isinstance(until, int | float) or until <= (time.time() if now is None else now):
        return None
    if not isinstance(details, dict):
        return None
    return {str(k): str(v) for k, v in details.items()}
