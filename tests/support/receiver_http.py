"""One HTTP request to a receiver on loopback, with plain ``http.client``: nothing is mocked.

``request`` opens a connection per call, for tests that look at one answer; ``post_once`` goes
on with a kept-alive connection, for senders that send many and must survive the server dying
under them.
"""

from __future__ import annotations

import http.client
import json
from contextlib import closing
from dataclasses import dataclass
from typing import Any

LOOPBACK = "127.0.0.1"


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    """Names lower-cased: HTTP header names are case-insensitive, a dict is not."""
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


def request(
    port: int,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    *,
    timeout_s: float = 30,
) -> Reply:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout_s)
    with closing(conn):
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return Reply(
            response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
        )


def with_json_type(headers: dict[str, str] | None) -> dict[str, str]:
    """The headers, with ``Content-Type: application/json`` unless they name a type already
    (a sample's captured headers, say): what every sender of these webhooks sets."""
    sent = dict(headers or {})
    if not any(name.lower() == "content-type" for name in sent):
        sent["Content-Type"] = "application/json"
    return sent


def post_webhook(
    port: int,
    source: str,
    body: bytes,
    headers: dict[str, str] | None = None,
    *,
    timeout_s: float = 30,
) -> Reply:
    """POST to ``/webhooks/{source}`` as a sender would."""
    return request(
        port, "POST", f"/webhooks/{source}", body, with_json_type(headers), timeout_s=timeout_s
    )


def post_once(
    conn: http.client.HTTPConnection, port: int, path: str, body: bytes, headers: dict[str, str]
) -> tuple[str, bytes, http.client.HTTPConnection]:
    """One POST on a kept-alive connection: the status (or the error's name), the answer's
    body, and the connection to go on with (a new one after an error)."""
    try:
        conn.request("POST", path, body=body, headers=headers)
        response = conn.getresponse()
        return str(response.status), response.read(), conn
    except (OSError, http.client.HTTPException) as exc:
        conn.close()
        return type(exc).__name__, b"", http.client.HTTPConnection(LOOPBACK, port, timeout=60)
