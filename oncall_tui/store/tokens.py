"""Agent tokens: one per machine an agent runs on, for the session routes off loopback.

A token is 32 random bytes, URL-safe, shown once when it is made; only its sha256 is stored,
so a copy of the DB (a backup, a support bundle) admits nobody. A request's token is hashed and
compared with :func:`hmac.compare_digest` against each live token's hash. Making and revoking
one are journaled (:class:`~oncall_tui.core.journal.TokenCreated`, ``TokenRevoked``: the name
only) so a lead sees who was given access when; the ``agent_tokens`` table is what requests
are checked against, and when each token was last used.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import datetime, timedelta

from oncall_tui.core.clock import from_iso, iso
from oncall_tui.core.journal import TokenCreated, TokenRevoked
from oncall_tui.store.journal import Store
from oncall_tui.store.queries import NotFoundError

TOKEN_BYTES = 32
NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
USE_RECORDED_EVERY = timedelta(seconds=60)
"""``last_used_at`` is written at most this often per token: an agent's hook calls on every
prompt and edit, and a write per call would queue behind the receiver's for nothing."""


class TokenNameError(ValueError):
    """A token name that cannot be used (malformed, or already given to a live token)."""


@dataclass(frozen=True)
class TokenRow:
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(store: Store, name: str, actor: str) -> str:
    """A new token for the machine ``name``, returned once and stored hashed.

    A revoked token's name may be given again (the old row is replaced: the journal keeps the
    history); a live one's may not, so two machines never share a name by mistake.
    """
    if NAME.fullmatch(name) is None:
        raise TokenNameError(
            f"invalid token name {name[:70]!r}: letters, digits, '.', '_' and '-', up to 64"
        )
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = store.clock.now()
    with store.write(durable=True) as writer:
        row = writer.conn.execute(
            "SELECT revoked_at FROM agent_tokens WHERE name = ?", (name,)
        ).fetchone()
        if row is not None and row[0] is None:
            raise TokenNameError(f"a live token is named {name!r}: revoke it first")
        writer.conn.execute("DELETE FROM agent_tokens WHERE name = ?", (name,))
        writer.conn.execute(
            "INSERT INTO agent_tokens (name, hash, created_at) VALUES (?, ?, ?)",
            (name, token_hash(token), iso(now)),
        )
        writer.append(TokenCreated(name=name), actor, now)
    return token


def revoke_token(store: Store, name: str, actor: str) -> None:
    """Refuse the token named ``name`` from now on; :class:`NotFoundError` when there is no
    live token of that name."""
    now = store.clock.now()
    with store.write(durable=True) as writer:
        done = writer.conn.execute(
            "UPDATE agent_tokens SET revoked_at = ? WHERE name = ? AND revoked_at IS NULL",
            (iso(now), name),
        )
        if done.rowcount == 0:
            raise NotFoundError(f"no live token named {name!r}")
        writer.append(TokenRevoked(name=name), actor, now)


def list_tokens(conn: sqlite3.Connection) -> list[TokenRow]:
    rows = conn.execute(
        "SELECT name, created_at, last_used_at, revoked_at FROM agent_tokens ORDER BY name"
    ).fetchall()
    return [
        TokenRow(name, from_iso(created), _time(used), _time(revoked))
        for name, created, used, revoked in rows
    ]


def check_token(store: Store, token: str) -> str | None:
    """The name of the live token ``token`` is, else None; its use is recorded now and then."""
    presented = token_hash(token)
    live = store.conn.execute(
        "SELECT name, hash, last_used_at FROM agent_tokens WHERE revoked_at IS NULL"
    ).fetchall()
    found: tuple[str, str | None] | None = None
    for name, stored, used in live:
        # Every live hash is compared, each in constant time: how long the check takes says
        # nothing about which token came close.
        if hmac.compare_digest(stored, presented):
            found = (name, used)
    if found is None:
        return None
    name, used = found
    now = store.clock.now()
    if used is None or now - from_iso(used) >= USE_RECORDED_EVERY:
        with store.write() as writer:
            writer.conn.execute(
                "UPDATE agent_tokens SET last_used_at = ? WHERE name = ?", (iso(now), name)
            )
    return name


def _time(value: str | None) -> datetime | None:
    return None if value is None else from_iso(value)
