"""Handing a write to the ``serve`` that answers for this DB, from a process just started.

A hook or a CLI command starts as a new process; importing the models, the store and the
settings alone takes it several times what an agent or an engineer should wait for a write. A
running ``serve`` has them loaded. While it runs it holds this machine's lease in the DB
(:func:`lease_name`; :mod:`oncall_tui.server.local_api`) and publishes with it the address it
answers on, on this machine, and a secret of its own run. The secret is as private as the DB (readable by its owner
alone), and it admits what an agent token never does: recording decisions, reading a checkout
on this machine.

A caller that finds a live lease posts there (:func:`post_json`); when the post fails in any way
it does the work itself, as it did before there was a ``serve`` to ask. Standard library only.
"""

from __future__ import annotations

import _socket  # not socket: see oncall_tui.agents.http_post._connect
import json
import sqlite3

from oncall_tui.agents.http_post import post
from oncall_tui.store.lease_read import live_details


def lease_name() -> str:
    """The lease of this machine's ``serve``: one per host, since in team mode several hosts
    share one database, and a caller must only ever post to a ``serve`` on its own machine."""
    return f"local-api:{_socket.gethostname()}"


POST_TIMEOUT_S = 0.5
"""A busy ``serve`` answers a write in tens of milliseconds; past this, doing it here is faster."""


class LocalApi:
    """Where this DB's ``serve`` answers on this machine, and its secret."""

    __slots__ = ("secret", "url")

    def __init__(self, url: str, secret: str) -> None:
        self.url = url
        self.secret = secret


def find(conn: sqlite3.Connection) -> LocalApi | None:
    """The live ``serve`` of the DB ``conn`` is open on, if one publishes its address."""
    details = live_details(conn, lease_name())
    if not details or not details.get("url") or not details.get("secret"):
        return None
    return LocalApi(details["url"], details["secret"])


def post_json(
    api: LocalApi, path: str, body: dict[str, object], timeout_s: float = POST_TIMEOUT_S
) -> dict[str, object]:
    """``serve``'s JSON answer to ``POST path``; raises on any failure (the caller falls back)."""
    answer = json.loads(post(api.url, api.secret, path, json.dumps(body).encode(), timeout_s))
    if not isinstance(answer, dict):
        raise ValueError("unexpected answer")
    return answer
