"""``POST /webhooks/<source>`` in plain ASGI: the one route a storm hits.

Every other route goes through Starlette; this one does not, because during a storm the
receiver is bound by the Python it runs per request, and a framework's request, response and
middleware objects were a tenth of it. Senders decide from our status code whether to retry,
so the codes are the contract (DESIGN §5): 202 only once the raw delivery is committed (its
signals are folded into incidents right after, see :mod:`oncall_tui.server.writer`), the
Ingestor's own status for anything it refused, and 503 with ``Retry-After`` when the store
cannot commit, because Alertmanager and PagerDuty drop a notification on 429 or any other 4xx.
Oversized and stalled bodies are refused before they cost memory or a database write.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, MutableMapping
from functools import partial
from typing import Any

import anyio.to_thread

from oncall_tui.server.body import BodyRefusedError, ClientGoneError, Receive, read_body
from oncall_tui.server.writer import IngestWriter
from oncall_tui.store.db import StoreUnavailableError

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Send = Callable[[Message], Awaitable[None]]

PREFIX = "/webhooks/"
RETRY_AFTER_S = 5
PREPARE_INLINE_BYTES = 64 * 1024
"""Bodies up to this are checked and parsed on the event loop (well under a millisecond);
bigger ones, such as an Alertmanager group of thousands, on a worker thread."""


class WebhookRoute:
    """The route's ASGI app; :meth:`matches` says which paths are its own."""

    def __init__(self, writer: IngestWriter, *, max_body: int, read_timeout_s: float) -> None:
        self._writer = writer
        self._max_body = max_body
        self._read_timeout_s = read_timeout_s

    @staticmethod
    def matches(path: str) -> bool:
        source = path[len(PREFIX) :]
        return path.startswith(PREFIX) and bool(source) and "/" not in source

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        source = scope["path"][len(PREFIX) :]
        if scope["method"] != "POST":
            await answer(send, 405, {"error": "POST a delivery here"}, [(b"allow", b"POST")])
            return
        headers = _joined_headers(scope["headers"])
        try:
            body = await read_body(
                receive, headers.get("content-length", ""), self._max_body, self._read_timeout_s
            )
        except BodyRefusedError as exc:
            # Closing the connection is what stops the rest of the body: a kept-alive
            # connection would make the server read and discard it all before the next request.
            connection_close = [(b"connection", b"close")]
            await answer(
                send, exc.status, {"error": exc.reason, "delivery_id": None}, connection_close
            )
            return
        except ClientGoneError:
            return  # nobody is listening any more
        writer = self._writer
        if len(body) <= PREPARE_INLINE_BYTES:
            prepared = writer.prepare(source, body, headers, from_http=True)
        else:
            prepare = partial(writer.prepare, from_http=True)
            prepared = await anyio.to_thread.run_sync(prepare, source, body, headers)
        try:
            result = await writer.ingest_async(prepared)
        except StoreUnavailableError as exc:
            log.warning("store unavailable, answering 503 to %s: %s", source, exc)
            retry = [(b"retry-after", str(RETRY_AFTER_S).encode())]
            await answer(
                send, 503, {"error": f"store unavailable: {exc}", "delivery_id": None}, retry
            )
            return
        content: dict[str, object]
        if 200 <= result.http_status < 300:
            content = {
                "status": result.status,
                "delivery_id": result.delivery_id,
                "signals": result.signals,
            }
        else:
            content = {"error": result.reason, "delivery_id": result.delivery_id}
        await answer(send, result.http_status, content)


def _joined_headers(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Repeated headers joined with ", " (RFC 9110 §5.3) instead of silently keeping one."""
    headers: dict[str, str] = {}
    for name_bytes, value_bytes in raw:
        name, value = name_bytes.decode("latin-1"), value_bytes.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


async def answer(
    send: Send,
    status: int,
    content: dict[str, object],
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    """A JSON answer straight through ASGI: no framework objects on the hot path."""
    body = json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    if extra_headers:
        headers.extend(extra_headers)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
