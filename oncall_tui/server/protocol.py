"""The HTTP/1.1 protocol the receiver serves with: uvicorn's httptools protocol, made strict.

httptools (llhttp, in C) parses a request in a fraction of what h11 (pure Python) costs, and a
storm is bound by the receiver's Python per request. Behind uvicorn, though, it is lax where a
receiver open to senders must not be (tests/integration/test_receiver_fuzz.py holds each):

- it bounds no request head: a client could grow the receiver's memory at will. Here a head
  over ``MAX_HEAD_BYTES`` is answered 431 and the connection closed, as h11 does, whether it
  arrives in many reads or in one (a head counted only while incomplete would pass whole when
  the read that crosses the bound also completes it);
- it accepts a missing or doubled Host (RFC 9112 §3.2 says 400);
- bytes that do not parse, arriving behind a request still being answered, were answered 400
  at once and the connection closed, so the request's sender never learnt its delivery id.
  Here that request is answered first, then the connection is closed;
- llhttp takes what follows a request offering an upgrade (``Upgrade: h2c``) for the new
  protocol, body included, so the delivery was stored empty. The receiver upgrades to nothing:
  it reads that body by its Content-Length, answers the request and closes (an offer with a
  chunked body is refused 400).

Neither parser bounds the time a client may take to send its request head: a connection that
sends half a head, or nothing, would be held open for ever (slowloris). The body's time is
bounded in the app (``server.read_timeout_s``); this bounds the head's, counted from the
connection or from the previous answer on a kept-alive connection.
"""

from __future__ import annotations

import asyncio

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

MAX_HEAD_BYTES = 16 * 1024
"""h11's default bound on a request head, which senders' heads (a few hundred bytes) are far
below."""


class _BadHead(Exception):
    """Raised from a parser callback; llhttp stops and the request is answered 400."""


class _HeadTooLarge(Exception):
    """Raised from a parser callback once the head parsed so far is over the bound: 431."""


class ReceiverProtocol(HttpToolsProtocol):
    head_timeout_s: float = 10.0
    """Set per server by :func:`with_head_deadline`."""

    _head_deadline: asyncio.TimerHandle | None = None
    _in_head = True
    """Between requests or inside a request head: what the deadline and the size bound cover."""
    _head_bytes = 0
    """Bytes received while a head is incomplete: bounds a head that never ends."""
    _head_parsed = 0
    """The request line's target and every header line parsed so far: bounds a head that
    ends in the read that crosses the limit, whatever else that read carries."""
    _upgrade_body_left = 0
    """Body bytes still due from a request that offered an upgrade (llhttp does not read them)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm_head_deadline()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self._unset_keepalive_if_required()
        if self._upgrade_body_left:
            self._take_upgrade_body(data)
            return
        if self._in_head:
            self._head_bytes += len(data)
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade as upgrade:
            self._take_upgrade_body(data[upgrade.args[0] :])
        except httptools.HttpParserError as exc:
            # httptools raises its own error for one raised in a callback, with ours as context.
            cause = exc.__context__
            if isinstance(cause, _HeadTooLarge):
                self._refuse(431, "Request head too large.")
            elif isinstance(cause, _BadHead):
                self.send_400_response(str(cause))
            else:
                self.send_400_response("Invalid HTTP request received.")
        else:
            # A head still incomplete after this read: what it has taken so far counts (the
            # parser keeps a header line it has not finished). A head that ended in this read
            # was bounded by the callbacks; what follows it is the body, which the app bounds.
            if self._in_head and self._head_bytes > MAX_HEAD_BYTES:
                self._refuse(431, "Request head too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_parsed = 0

    def on_url(self, url: bytes) -> None:
        self._count_head(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count_head(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def _count_head(self, size: int) -> None:
        self._head_parsed += size
        if self._head_parsed > MAX_HEAD_BYTES:
            raise _HeadTooLarge

    def on_headers_complete(self) -> None:
        hosts = sum(1 for name, _ in self.headers if name == b"host")
        if hosts > 1 or (hosts == 0 and self.parser.get_http_version() == "1.1"):
            raise _BadHead("A request needs exactly one Host header.")
        self._in_head = False
        if self.parser.should_upgrade():
            self._upgrade_body_left = self._upgrade_body_length()
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        if self._upgrade_body_left:
            return  # llhttp ended the message at its head; the body comes in data_received
        super().on_message_complete()
        self._in_head = True
        self._head_bytes = 0

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def _upgrade_body_length(self) -> int:
        length = 0
        for name, value in self.headers:
            if name == b"transfer-encoding":
                raise _BadHead("An upgrade offer with a chunked body is not accepted.")
            if name == b"content-length":
                length = int(value)  # llhttp has checked it is one number
        return length

    def _take_upgrade_body(self, data: bytes) -> None:
        taken = data[: self._upgrade_body_left]
        self._upgrade_body_left -= len(taken)
        cycle = self.cycle
        if taken and not cycle.response_complete:
            cycle.body += taken
            cycle.message_event.set()
        if not self._upgrade_body_left:
            if not cycle.response_complete:
                cycle.more_body = False
                cycle.message_event.set()
            self._stop_after_this_request()

    def _should_upgrade(self) -> bool:
        return False  # the receiver serves no WebSocket or h2c

    def send_400_response(self, msg: str) -> None:
        self._refuse(400, msg)

    def _refuse(self, status: int, msg: str) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_complete and not cycle.more_body:
            self._stop_after_this_request()  # its answer goes out first
            return
        content = b"".join(
            [
                STATUS_LINE[status],
                b"content-type: text/plain; charset=utf-8\r\n",
                b"content-length: %d\r\n" % len(msg),
                b"connection: close\r\n\r\n",
                msg.encode("ascii"),
            ]
        )
        self.transport.write(content)
        self.transport.close()

    def _stop_after_this_request(self) -> None:
        # The parser cannot go on past this point: read nothing more, answer what is in
        # flight (if anything), then close.
        self._in_head = False
        self.flow.pause_reading()
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            self.transport.close()
        else:
            cycle.keep_alive = False

    def _arm_head_deadline(self) -> None:
        self._disarm_head_deadline()
        if not self.transport.is_closing():
            self._head_deadline = self.loop.call_later(self.head_timeout_s, self._head_overdue)

    def _disarm_head_deadline(self) -> None:
        if self._head_deadline is not None:
            self._head_deadline.cancel()
            self._head_deadline = None

    def _head_overdue(self) -> None:
        # Until a whole request head is parsed there is no request to answer, so the
        # connection is just closed.
        self._head_deadline = None
        idle = self.cycle is None or self.cycle.response_complete
        if self._in_head and idle and not self.transport.is_closing():
            self.transport.close()


def with_head_deadline(head_timeout_s: float) -> type[ReceiverProtocol]:
    """The protocol class for a server whose clients get ``head_timeout_s`` per request head."""
    return type("ReceiverProtocol", (ReceiverProtocol,), {"head_timeout_s": head_timeout_s})
