"""Local, non-projected values kept in the DB."""

from __future__ import annotations

import secrets

from oncall_tui.store.journal import Store

FENCE_KEY = "fence_key"


def fence_key(store: Store) -> bytes:
    """A random key, made once per DB, from which context fences are derived.

    Fences derived from it and the document are stable for the same state (no churn in files)
    yet unguessable to a sender, who would need the key to forge a closing marker.
    """
    row = store.conn.execute("SELECT value FROM meta WHERE key = ?", (FENCE_KEY,)).fetchone()
    if row is not None:
        return bytes.fromhex(row[0])
    with store.write() as writer:
        writer.conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?)",
            (FENCE_KEY, secrets.token_hex(32)),
        )
        value = writer.conn.execute(
            "SELECT value FROM meta WHERE key = ?", (FENCE_KEY,)
        ).fetchone()[0]
    return bytes.fromhex(value)
