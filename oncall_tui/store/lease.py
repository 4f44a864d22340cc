"""A lease in the DB: which one of several processes does a job that must be done once.

The dashboard and ``serve`` may run at once on the same DB; both can keep the context files
current, but two writers of the same files would fight over them. The holder renews its lease
well within :data:`LEASE_TTL_S`; a process that dies stops renewing, and another takes over once
the lease has run out. A holder that stops cleanly releases it, so the other takes over at once,
and so does a process on the holder's own host once the holder's pid is gone (a ``serve``
restarted after a crash folds and exports at once, not after the lease's TTL).

The lease runs on wall-clock time, never on the injected clock: it is about processes being
alive now, while an injected clock tells the story's time (a fixed clock never moves, and a
lease measured on it would never run out).
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import sqlite3
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from oncall_tui.store.db import write_transaction
from oncall_tui.store.lease_read import lease_key, lease_value

LEASE_TTL_S = 5.0
"""How long a lease lasts unless renewed: the takeover time after a holder dies."""
RENEW_EVERY_S = 1.0
"""How often a holder renews, and how often a waiting process looks again."""


@dataclass(frozen=True)
class LeaseHolder:
    """Who holds a lease, as shown to people ("exported by serve, pid 4242 on host-a")."""

    program: str
    pid: int
    host: str
    until: float
    """Wall-clock seconds (``time.time()``) when the lease runs out unless renewed."""
    details: Mapping[str, str] = field(default_factory=dict)
    """What the holder publishes for others while it holds the lease (e.g. where it listens)."""

    def describe(self) -> str:
        return f"{self.program} (pid {self.pid} on {self.host})"

    def gone(self) -> bool:
        """Whether the holder is known to be dead: its pid is no process on this, its host."""
        if self.host != socket.gethostname() or self.pid <= 0:
            return False  # another machine's process, or no pid to ask about
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except OSError:  # alive, another user's
            return False
        return False


@dataclass
class Lease:
    """One process's claim on the job ``name`` (e.g. ``export``)."""

    name: str
    program: str
    """What this process is (``serve``, ``dashboard``), for whoever asks who holds it."""
    ttl_s: float = LEASE_TTL_S
    claim: str = field(default_factory=lambda: secrets.token_hex(8))
    """Tells this holder apart from another process that reused the pid."""
    details: Mapping[str, str] = field(default_factory=dict)
    """Published with the lease, read by others with it (:attr:`LeaseHolder.details`)."""
    preempts: tuple[str, ...] = ()
    """Programs whose live hold this one takes over (``serve`` from the ``hook-server`` it
    supersedes); the one taken from sees the lease gone at its next renewal."""

    def hold(self, conn: sqlite3.Connection, now: float | None = None) -> bool:
        """Take the lease if it is free or has run out, renew it if it is ours.

        Returns whether this process holds it now. A lease held by another live process is
        seen with one read, without taking the write lock.
        """
        now = time.time() if now is None else now
        if self._held_by_another(conn, now):
            return False
        with write_transaction(conn) as tx:
            if self._held_by_another(tx, now):  # again under the write lock: it may be taken
                return False
            value = {
                "claim": self.claim,
                "program": self.program,
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "until": now + self.ttl_s,
            }
            if self.details:
                value["details"] = dict(self.details)
            tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?)"
                " ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (lease_key(self.name), json.dumps(value, sort_keys=True)),
            )
        return True

    def _held_by_another(self, conn: sqlite3.Connection, now: float) -> bool:
        current = read_lease(conn, self.name)
        if current is None or current[0] == self.claim or current[1].until <= now:
            return False
        return current[1].program not in self.preempts and not current[1].gone()

    def release(self, conn: sqlite3.Connection) -> None:
        """Give the lease up (only if it is still ours), so another process takes over now."""
        with write_transaction(conn) as tx:
            current = read_lease(tx, self.name)
            if current is not None and current[0] == self.claim:
                tx.execute("DELETE FROM meta WHERE key = ?", (lease_key(self.name),))


def read_lease(conn: sqlite3.Connection, name: str) -> tuple[str, LeaseHolder] | None:
    """The claim and holder of lease ``name``, live or run out; None when nobody took it."""
    value = lease_value(conn, name)
    if value is None:
        return None
    try:
        details = value.get("details") or {}
        holder = LeaseHolder(
            program=str(value["program"]),
            pid=int(value["pid"]),
            host=str(value["host"]),
            until=float(value["until"]),
            details={str(k): str(v) for k, v in details.items()},
        )
        return str(value["claim"]), holder
    except (ValueError, KeyError, TypeError, AttributeError):
        return None  # an unreadable lease is no lease: the next holder overwrites it


def live_holder(
    conn: sqlite3.Connection, name: str, now: float | None = None
) -> LeaseHolder | None:
    """Who holds lease ``name`` now, if anyone."""
    current = read_lease(conn, name)
    now = time.time() if now is None else now
    if current is None or current[1].until <= now:
        return None
    return current[1]
