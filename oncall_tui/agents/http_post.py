"""One JSON POST to an oncall-tui server, within a deadline, with the standard library alone.

The callers are short-lived processes an agent or an engineer waits for (a remote hook, a hook
or a CLI command handing its write to the local ``serve``): the deadline holds for the whole
call, connection included, because the request runs in a thread the caller stops waiting for.

Plain ``http://`` (``serve`` on this machine, a server behind a tunnel) is spoken over a socket
here (:func:`_connect`): ``http.client`` costs ~25 ms to import (the email parser, ssl), a
quarter of what a hook may take in all, for one request and one ``Content-Length`` answer from
our own server. ``https://`` goes through ``http.client``.
"""

from __future__ import annotations

import _socket
import threading
from urllib.parse import urlsplit

MAX_ANSWER_BYTES = 1024 * 1024


class ServerRefusedError(RuntimeError):
    """The server answered, with an error status (a revoked or wrong token: 401)."""

    def __init__(self, status: int, body: bytes = b"") -> None:
        super().__init__(status)
        self.status = status
        self.body = body


class ServerUnreachableError(OSError):
    """No answer within the deadline."""


def post(server: str, token: str, path: str, body: bytes, timeout_s: float) -> bytes:
    """The body of the server's 200 answer to ``POST server/path``; raises on any failure."""
    result: list[bytes | BaseException] = []

    def call() -> None:
        try:
            result.append(_post(server, token, path, body, timeout_s))
        except BaseException as exc:  # handed to the waiting thread as it is
            result.append(exc)

    worker = threading.Thread(target=call, name="oncall-tui-post", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if not result:
        raise ServerUnreachableError("no answer in time")
    outcome = result[0]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


def _post(server: str, token: str, path: str, body: bytes, timeout_s: float) -> bytes:
    url = urlsplit(server)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("the server URL must be http(s)://host[:port]")
    if url.scheme == "http":
        return _post_plain(url.hostname, url.port or 80, url.path, token, path, body, timeout_s)
    import http.client

    conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=timeout_s)
    try:
        try:
            conn.request(
                "POST",
                f"{url.path.rstrip('/')}{path}",
                body=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            response = conn.getresponse()
            data = response.read(MAX_ANSWER_BYTES)
        except OSError as exc:
            raise ServerUnreachableError(type(exc).__name__) from exc
        if response.status != 200:
            raise ServerRefusedError(response.status, data)
        return data
    finally:
        conn.close()


def _post_plain(
    host: str, port: int, base: str, token: str, path: str, body: bytes, timeout_s: float
) -> bytes:
    """HTTP/1.1 over a socket: one request, ``Connection: close``, a ``Content-Length`` body."""
    target = f"{base.rstrip('/')}{path}"
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    head = (
        f"POST {target} HTTP/1.1\r\nHost: {authority}\r\n"
        f"Authorization: Bearer {token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    try:
        conn = _connect(host, port, timeout_s)
        try:
            conn.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            conn.sendall(head.encode("latin-1") + body)
            received = bytearray()
            while len(received) <= MAX_ANSWER_BYTES + 16 * 1024:
                chunk = conn.recv(65536)
                if not chunk:
                    break
                received += chunk
        finally:
            conn.close()
    except OSError as exc:
        raise ServerUnreachableError(type(exc).__name__) from exc
    status, data = _parse_answer(bytes(received))
    if status != 200:
        raise ServerRefusedError(status, data)
    return data


def _connect(host: str, port: int, timeout_s: float) -> _socket.socket:
    """A connected TCP socket, trying each address of ``host`` in turn (as
    ``socket.create_connection`` does).

    Performance: the ``_socket`` extension itself, not the ``socket`` module around it, whose
    import (selectors, and an enum built for every constant) is 2.5 ms of a hook; an ASCII host
    is given as bytes, since a str is encoded with the "idna" codec first, whose import is 2 ms
    more.
    """
    name = host.encode("ascii") if host.isascii() else host
    failure: OSError = OSError(f"no address for {host}")
    for family, kind, proto, _, address in _socket.getaddrinfo(name, port, 0, _socket.SOCK_STREAM):
        conn = _socket.socket(family, kind, proto)
        try:
            conn.settimeout(timeout_s)
            conn.connect(address)
        except OSError as exc:
            conn.close()
            failure = exc
            continue
        return conn
    raise failure


def _parse_answer(raw: bytes) -> tuple[int, bytes]:
    """Status and body of a whole HTTP/1.1 answer; ValueError for anything but a plain one."""
    head, separator, rest = raw.partition(b"\r\n\r\n")
    if not separator:
        raise ValueError("incomplete answer")
    lines = head.decode("latin-1").split("\r\n")
    version, _, status = lines[0].partition(" ")
    if not version.startswith("HTTP/1.") or not status[:3].isdigit():
        raise ValueError("not an HTTP answer")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raise ValueError("chunked answers are not expected from oncall-tui")
    length = headers.get("content-length")
    body = rest[: int(length)] if length is not None else rest
    if length is not None and len(body) < int(length):
        raise ValueError("answer cut short")
    return int(status[:3]), body[:MAX_ANSWER_BYTES]
