"""What every request must pass before any route sees it: a Host we answer to, and no browser.

The receiver listens on loopback with open sources by default, so anything that can make a
request from this machine is a sender. A web page in the engineer's browser can:

- post a form cross-site (``text/plain`` or a form type: no CORS preflight). The routes accept
  JSON types only (:func:`oncall_tui.ingest.prepare.is_json_media_type`), and browsers name the page in
  ``Origin`` on every cross-origin request and every POST, so a request carrying ``Origin`` is
  refused here (403), whatever its value: ``null`` comes from sandboxed frames, ``file:`` pages
  and redirects, which are web pages all the same. Senders (Alertmanager, Grafana, PagerDuty,
  Datadog, GitHub), curl and the agents' HTTP clients send no ``Origin``.
- read our answers by DNS rebinding: its own name resolved to 127.0.0.1, so the browser calls
  it same-origin and sends no ``Origin``, but its ``Host`` is the page's name. Only the names we
  are reached by are answered (421 Misdirected Request otherwise): the loopback names, the bind
  address and ``server.allowed_hosts``. An HTTP/1.0 request without Host is no browser's.

Neither refusal is stored: it is no sender's delivery. Both are counted (``/healthz``). The
check is a pass over the request's headers and a set lookup, so it costs nothing on the hot
path of a storm.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from oncall_tui.config import ServerSettings

log = logging.getLogger(__name__)

LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")
WILDCARD_ADDRESSES = frozenset({"0.0.0.0", "::", "[::]"})


class Door:
    """The Host and Origin checks for one server's settings, and what they refused."""

    def __init__(self, server: ServerSettings) -> None:
        names = [*LOOPBACK_NAMES, server.host, *server.allowed_hosts]
        self.allowed = frozenset(_normalised(name) for name in names)
        self.refused: dict[str, int] = {"misdirected_host": 0, "browser_origin": 0}
        if server.host in WILDCARD_ADDRESSES and not server.allowed_hosts:
            log.warning(
                "listening on %s: requests are answered 421 unless their Host is a loopback "
                "name or listed in server.allowed_hosts (the names senders reach this machine by)",
                server.host,
            )

    def refusal(self, headers: Iterable[tuple[bytes, bytes]]) -> tuple[int, str] | None:
        """(status, reason) for a request to refuse, or None to let it through."""
        for name, value in headers:
            if name == b"host":
                if _host_name(value) not in self.allowed:
                    self.refused["misdirected_host"] += 1
                    return 421, "this server does not answer to that Host"
            elif name == b"origin":
                self.refused["browser_origin"] += 1
                return 403, "requests from web pages are not accepted"
        return None


def _normalised(name: str) -> bytes:
    """A configured name as it appears in a Host header, without a port."""
    lowered = name.strip().lower()
    if ":" in lowered and not lowered.startswith("["):  # a bare IPv6 address
        lowered = f"[{lowered}]"
    if lowered.isascii():
        return lowered.encode("ascii")
    try:  # browsers send an international name in its ASCII (punycode) form
        return lowered.encode("idna")
    except UnicodeError:
        return lowered.encode("utf-8")  # not a name any Host header can match


def _host_name(value: bytes) -> bytes:
    """The name part of a Host header value (``127.0.0.1:9977``, ``[::1]:9977``, ``localhost``)."""
    host = value.strip().lower()
    name, colon, port = host.rpartition(b":")
    if (
        colon
        and (port.isdigit() or not port)
        and (not name.startswith(b"[") or name.endswith(b"]"))
    ):
        return name
    return host
