"""The HTTP/1.1 protocol the receiver serves with: uvicorn's h11, plus a deadline for the head.

h11 rather than httptools, measured both ways: httptools parses faster, but behind uvicorn it
bounds no header's size (a client can grow the receiver's memory at will), drops the body of a
request that offers an upgrade, answers bytes pipelined after a request before the request
itself, and accepts a missing or doubled Host. h11 does none of that
(tests/integration/test_receiver_fuzz.py holds all four). One of those h11 shares, in a narrower
form: bytes that do not parse, arriving behind a complete request still being answered, had
uvicorn answer them with 400 and close, so the sender of the request never learnt its delivery
id; here that request is answered first, then the connection is closed.

Neither bounds the time a client may take to send its request head: a connection that sends
half a head, or nothing, would be held open for ever (slowloris). The body's time is bounded in
the app (``server.read_timeout_s``); this bounds the head's, counted from the connection or
from the previous answer on a kept-alive connection.
"""

from __future__ import annotations

import asyncio

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeadDeadlineProtocol(H11Protocol):
    head_timeout_s: float = 10.0
    """Set per server by :func:`with_head_deadline`."""

    _head_deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            cycle.keep_alive = False  # the app's answer goes out, then the connection closes
            return
        super().send_400_response(msg)

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        if not self.transport.is_closing():
            self._head_deadline = self.loop.call_later(self.head_timeout_s, self._head_overdue)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_overdue(self) -> None:
        # h11 leaves IDLE only once a whole request head is parsed: until then there is no
        # request to answer, so the connection is just closed.
        self._head_deadline = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def with_head_deadline(head_timeout_s: float) -> type[HeadDeadlineProtocol]:
    """The protocol class for a server whose clients get ``head_timeout_s`` per request head."""
    return type("ReceiverProtocol", (HeadDeadlineProtocol,), {"head_timeout_s": head_timeout_s})
