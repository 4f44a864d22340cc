"""Reading a request body within a size and a time limit, for every route that takes one."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


class BodyRefusedError(Exception):
    """The body is over the limit (413) or did not arrive in time (408)."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


class ClientGoneError(Exception):
    """The client disconnected before its body was whole."""


async def read_body(receive: Receive, declared_length: str, limit: int, timeout_s: float) -> bytes:
    """The body from an ASGI ``receive``, refused before it costs memory when too large.

    ``declared_length`` is the request's Content-Length (empty when absent).
    """
    if declared_length.isdigit() and int(declared_length) > limit:
        raise BodyRefusedError(413, f"body over {limit} bytes")
    # Content-Length may be absent (chunked) or lie, so count what actually arrives.
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout_s):
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ClientGoneError
                chunk: bytes = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise BodyRefusedError(413, f"body over {limit} bytes")
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return chunks[0] if len(chunks) == 1 else b"".join(chunks)
    except TimeoutError:
        raise BodyRefusedError(408, f"body not received within {timeout_s:g} s") from None
